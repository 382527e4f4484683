// Starts Swagger UI on /docs (app/routes/docs.py). A file of its own, not an inline script, so the
// page's Content-Security-Policy can allow scripts from this origin only.
"use strict";
(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // Swagger UI's default sends the document to an online validator for a badge: never.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
