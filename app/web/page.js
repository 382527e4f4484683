// The MDT-preparation page. It builds the form from the published Case schema, reads it into a
// case, asks POST /v1/explain, shows the explanation, and keeps the case in the URL so a prepared
// case can be shared as a link (also as ?case=<JSON of a Case>). Modules: api.js (the API and its
// key), words.js (labels), form.js (the form), cards.js, tables.js and result.js (the sheet),
// markdown.js (the download).
import { api, askForKeyPanel, getJson, onKeyChange, showKeyState } from "./api.js";
import { catalogue } from "./cards.js";
import { el } from "./dom.js";
import {
  buildForm,
  caseFromForm,
  caseToQuery,
  fieldsFromSchema,
  restoreDefaults,
  setField,
  syncLists,
  valueFromQuery,
} from "./form.js";
import { downloadMarkdown } from "./markdown.js";
import { digestNode, sheetFor, statusText } from "./result.js";
import { comparisonSection } from "./tables.js";
import { fieldLabel, prose, setKnownFields, valueWord } from "./words.js";

const form = document.getElementById("case-form");
const resultsSection = document.getElementById("results");
const resultBox = document.getElementById("result");
const statusLine = document.getElementById("status");
const errorSummary = document.getElementById("form-errors");

let fields = [];
let latestRequest = 0;
// A result pinned for comparison: its case and a short description of it.
let pinned = null;

// A new key: reload what the page fetched without it, and ask again if the last request was refused.
onKeyChange(() => {
  catalogueLoaded = loadCatalogue();
  if (!errorSummary.hidden || resultBox.childElementCount) form.requestSubmit();
});

// ---- errors next to the fields ----------------------------------------------------------------

function clearErrors() {
  errorSummary.hidden = true;
  errorSummary.replaceChildren();
  for (const message of form.querySelectorAll(".field-error")) {
    message.hidden = true;
    message.textContent = "";
  }
  for (const box of form.querySelectorAll("[aria-invalid]")) box.removeAttribute("aria-invalid");
}

// The problems of an error answer, whichever list holds them; ids in messages become labels.
function problemsOf(body) {
  const list = body && [body.detail, body.errors, body.invalid].find(Array.isArray);
  return (list || []).map((p) => ({
    field: String(p.field || p.name || p.pointer || "")
      .replace(/^[#/]+/, "")
      .split(/[./]/)[0],
    message: prose(String(p.message || p.reason || p.detail || "")),
  }));
}

function showErrors(problems, heading = "The case could not be explained. Please check:") {
  const items = [];
  for (const { field, message } of problems) {
    const slot = field ? document.getElementById(`${field}-error`) : null;
    const container = slot ? form.querySelector(`[data-field="${field}"]`) : null;
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      slot.hidden = false;
      for (const input of container.querySelectorAll("input, select")) input.setAttribute("aria-invalid", "true");
    }
    const label = container && !message.startsWith(fieldLabel(field)) ? `${fieldLabel(field)}: ` : "";
    items.push(el("li", {}, container ? el("a", { href: `#${container.id}` }, label + message) : label + message));
  }
  errorSummary.replaceChildren(el("p", {}, el("strong", {}, heading)), el("ul", {}, items));
  errorSummary.hidden = false;
  statusLine.textContent = "The case could not be explained: see the messages by the fields.";
  errorSummary.focus();
}

function askForKey() {
  showErrors(
    [
      {
        field: "",
        message:
          "This service asks for an API key. Enter it under “API key” at the top of the page, then choose Explain again.",
      },
    ],
    "The service refused the request (401: no valid API key).",
  );
  askForKeyPanel();
}

// ---- asking the API ---------------------------------------------------------------------------

async function explain(caseData) {
  const request = ++latestRequest;
  clearErrors();
  statusLine.textContent = "Explaining…";
  resultBox.setAttribute("aria-busy", "true");
  let response = null;
  let body = null;
  try {
    ({ response, body } = await api("/v1/explain?what_if=true", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(caseData),
    }));
  } catch (error) {
    body = { detail: [{ field: "", message: `The service could not be reached (${error.message}).` }] };
  }
  // A slower, older answer must not overwrite the answer to the latest case.
  if (request !== latestRequest) return;
  resultBox.removeAttribute("aria-busy");
  if (response && response.ok && body) {
    await catalogueLoaded;
    await render(body, request);
    return;
  }
  // A result for an earlier case must not stand beside a form it no longer matches.
  resultBox.replaceChildren();
  if (response && response.status === 401) {
    askForKey();
    return;
  }
  const problems = problemsOf(body);
  if (!problems.length) {
    const reason =
      (body && (body.title || body.error || body.detail)) || (response ? `HTTP ${response.status}` : "no answer");
    problems.push({ field: "", message: `The service answered with an error (${prose(String(reason))}).` });
  }
  showErrors(problems);
}

function sameCase(a, b) {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
}

async function comparisonWith(current) {
  if (!pinned || sameCase(pinned.case, current)) return null;
  const { response, body } = await api("/v1/compare", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ a: pinned.case, b: current }),
  }).catch(() => ({ response: null, body: null }));
  if (!response || !response.ok || !body)
    return el("p", { class: "note" }, "The comparison with the pinned case could not be made.");
  return comparisonSection(body, pinned.label);
}

// The printed pages' running header and footer carry what only the answer knows: the rulebook version
// and digest and the date. A constructed stylesheet (allowed by the page's CSP, unlike inline styles)
// fills the @page margin boxes that page.css lays out.
const printStamp = new CSSStyleSheet();
document.adoptedStyleSheets = [...document.adoptedStyleSheets, printStamp];

function cssString(text) {
  return `"${String(text).replace(/[\\"\n]/g, " ")}"`;
}

function stampPrintedPages(rulebook, preparedOn) {
  const digest = String(rulebook.digest).replace(/^(\w+:)?(.{12}).*$/, "$1$2…");
  printStamp.replaceSync(
    `@page { @top-right { content: ${cssString(`Rulebook ${rulebook.version} (${rulebook.date}), ${digest}`)}; } ` +
      `@bottom-left { content: ${cssString(`MDT preparation sheet, prepared ${preparedOn}. Not medical advice.`)}; } }`,
  );
}

function describeCase(caseData) {
  const site = valueWord("primary_site", caseData.primary_site);
  return `${site}, ${caseData.lesion_count} lesions, largest ${caseData.largest_lesion_cm} cm`;
}

async function render(explanation, request) {
  const caseData = Object.fromEntries(
    Object.entries(explanation.case).filter(([, v]) => v !== null && v !== undefined),
  );
  const comparison = await comparisonWith(caseData);
  // Still the latest case after the waits? Otherwise a newer answer is (or will be) on show.
  if (request !== latestRequest) return;
  const printButton = el("button", { type: "button", class: "secondary" }, "Print MDT sheet");
  const downloadButton = el("button", { type: "button", class: "secondary" }, "Download Markdown");
  const pinButton = el(
    "button",
    { type: "button", class: "secondary", id: "pin-button" },
    "Pin this result to compare",
  );
  const actions = el(
    "div",
    { class: "sheet-actions" },
    printButton,
    downloadButton,
    pinButton,
    pinned
      ? el(
          "span",
          { class: "note", id: "pinned-note" },
          `Pinned: ${pinned.label}. Change the case and choose Explain to compare.`,
        )
      : null,
    el("a", { href: window.location.href, class: "share-link" }, "Link to this case"),
  );
  if (pinned) {
    const unpinButton = el("button", { type: "button", class: "secondary" }, "Unpin");
    unpinButton.addEventListener("click", () => {
      pinned = null;
      for (const node of resultBox.querySelectorAll(".comparison, #pinned-note")) node.remove();
      unpinButton.remove();
      statusLine.textContent = "Unpinned: nothing to compare with.";
    });
    pinButton.after(unpinButton);
  }
  const { sheet, preparedOn, counts } = sheetFor(explanation, fields, actions, comparison);
  stampPrintedPages(explanation.rulebook, preparedOn);
  printButton.addEventListener("click", () => window.print());
  downloadButton.addEventListener("click", () => downloadMarkdown(explanation, fields, preparedOn));
  pinButton.addEventListener("click", () => {
    pinned = { case: caseData, label: describeCase(caseData) };
    statusLine.textContent = `Pinned: ${pinned.label}. Change the case and choose Explain to see what moves.`;
    pinButton.replaceWith(el("span", { class: "note", id: "pinned-note" }, `Pinned: ${pinned.label}.`));
  });
  resultBox.replaceChildren(sheet);
  statusLine.textContent = statusText(explanation, counts) + (comparison ? " Compared with the pinned case." : "");
  // The user asked for this: take the view and the keyboard focus to the top of the result.
  resultsSection.focus({ preventScroll: true });
  resultsSection.scrollIntoView({ block: "start" });
}

// ---- start-up ---------------------------------------------------------------------------------

async function loadCatalogue() {
  const [sources, categories, rules, health, about] = await Promise.all(
    ["/v1/sources", "/v1/categories", "/v1/rules", "/healthz", "/v1/about"].map(getJson),
  );
  for (const source of sources || []) catalogue.sources.set(source.id, source);
  for (const category of categories || []) catalogue.categories.set(category.id, category);
  catalogue.discussedRules.clear();
  for (const rule of (rules && rules.rules) || []) {
    if (rule.effect !== "discussed") continue;
    catalogue.discussedRules.set(rule.category, [...(catalogue.discussedRules.get(rule.category) || []), rule]);
  }
  if (health && health.rulebook) {
    document
      .getElementById("rulebook-stamp")
      .replaceChildren(
        `version ${health.rulebook.version} of ${health.rulebook.date} (digest `,
        digestNode(health.rulebook.digest),
        ")",
      );
  }
  if (about && about.not_for) document.getElementById("not-for").textContent = about.not_for;
}

// The case a link gives: ?case=<JSON of a Case>, or one query parameter per input.
function caseFromUrl(search) {
  const params = new URLSearchParams(search);
  if (params.has("case")) {
    try {
      const given = JSON.parse(params.get("case"));
      if (given && typeof given === "object" && !Array.isArray(given)) return { given, unusable: [] };
      return { error: "The link’s case is not a JSON object." };
    } catch {
      return { error: "The link’s case is not valid JSON." };
    }
  }
  const given = {};
  for (const field of fields)
    if (params.has(field.name)) given[field.name] = valueFromQuery(field, params.get(field.name));
  return Object.keys(given).length ? { given } : null;
}

function explainFromUrl() {
  clearErrors();
  const found = caseFromUrl(window.location.search);
  restoreDefaults(form, fields);
  if (!found) {
    resultBox.replaceChildren();
    statusLine.textContent = "Describe the case and choose Explain.";
    return;
  }
  if (found.error) {
    showErrors([{ field: "", message: found.error }]);
    return;
  }
  const unusable = fields.filter((f) => f.name in found.given && !setField(form, f, found.given[f.name]));
  if (new URLSearchParams(window.location.search).has("case")) {
    // A whole case from elsewhere (a CDS Hooks card): explained exactly as given, and the API
    // judges it; the form shows what it can of it.
    explain(found.given);
    return;
  }
  if (unusable.length) {
    showErrors(
      unusable.map((f) => ({
        field: f.name,
        message: `The link gives “${found.given[f.name]}”, which is not one of the choices here.`,
      })),
    );
    return;
  }
  explain(caseFromForm(form, fields));
}

let catalogueLoaded = loadCatalogue();

async function start() {
  showKeyState();
  const schema = await fetch("/schemas/case.schema.json")
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
  if (!schema) {
    document
      .getElementById("case-fields")
      .replaceChildren(
        el(
          "p",
          { class: "field-error" },
          "The form could not be loaded: the case schema did not arrive. Reload the page to try again.",
        ),
      );
    return;
  }
  fields = fieldsFromSchema(schema);
  setKnownFields(fields);
  document
    .getElementById("case-fields")
    .replaceChildren(...buildForm(fields, (schema.examples && schema.examples[0]) || {}));
  for (const field of fields.filter((f) => f.kind === "list")) {
    form.elements[`${field.name}_known`].forEach((radio) =>
      radio.addEventListener("change", () => syncLists(form, fields)),
    );
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const caseData = caseFromForm(form, fields);
    const query = `?${caseToQuery(caseData, fields)}`;
    if (query !== window.location.search) history.pushState(null, "", query);
    explain(caseData);
  });
  form.addEventListener("reset", (event) => {
    event.preventDefault();
    restoreDefaults(form, fields);
    clearErrors();
  });
  window.addEventListener("popstate", explainFromUrl);
  form.dataset.ready = "true";
  explainFromUrl();
}

start();
