"""The API documentation pages, /docs (Swagger UI) and /redoc (ReDoc), served entirely by the app.

FastAPI's own pages load both from a CDN, so they are blank without internet (hospitals and
classrooms are often offline). Here every script and stylesheet comes from app/web/vendor/ (pinned
npm releases, copied unchanged with their licences; see the README there) or app/web/, and the
pages' Content-Security-Policy allows nothing from anywhere else. No inline script: Swagger UI is
started by app/web/docs/swagger-init.js, ReDoc by its own `<redoc spec-url>` element."""

from html import escape
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
SWAGGER_UI = "swagger-ui-dist-5.35.0"
REDOC = "redoc-2.5.4"

# 'unsafe-inline' for styles only: ReDoc (styled-components) writes its CSS into <style> elements
# at run time. Scripts come from this origin alone; ReDoc's search index runs in a blob: worker.
DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"}

# An allow-list, as for the page's assets: name in the URL -> (file, media type). The vendored names
# carry their version, so a browser may keep them for good; the start-up script may change with the app.
IMMUTABLE = "public, max-age=31536000, immutable"
ASSETS: dict[str, tuple[Path, str, str]] = {
    f"{SWAGGER_UI}.js": (WEB_DIR / "vendor" / SWAGGER_UI / "swagger-ui-bundle.js", "text/javascript", IMMUTABLE),
    f"{SWAGGER_UI}.css": (WEB_DIR / "vendor" / SWAGGER_UI / "swagger-ui.css", "text/css", IMMUTABLE),
    f"{REDOC}.js": (WEB_DIR / "vendor" / REDOC / "redoc.standalone.js", "text/javascript", IMMUTABLE),
    "swagger-init.js": (WEB_DIR / "docs" / "swagger-init.js", "text/javascript", "no-cache"),
}
ASSETS_PATH = "/docs/assets"

router = APIRouter(tags=["docs"], include_in_schema=False)


def _page(request: Request, head: str, body: str) -> HTMLResponse:
    title = escape(request.app.title)
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API documentation</title>
<link rel="icon" href="{_root(request)}/static/favicon.svg" type="image/svg+xml">
{head}
</head>
<body>
{body}
</body>
</html>
"""
    return HTMLResponse(html, headers=PAGE_HEADERS)


def _root(request: Request) -> str:
    return escape(request.scope.get("root_path", ""))


def _urls(request: Request) -> tuple[str, str]:
    """The assets' base URL and the OpenAPI document's URL, behind a proxy's root path too."""
    root = _root(request)
    return root + ASSETS_PATH, root + escape(request.app.openapi_url)


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    assets, openapi = _urls(request)
    return _page(
        request,
        f'<link rel="stylesheet" href="{assets}/{SWAGGER_UI}.css">',
        f'<div id="swagger-ui" data-openapi-url="{openapi}"></div>\n'
        f'<script src="{assets}/{SWAGGER_UI}.js"></script>\n'
        f'<script src="{assets}/swagger-init.js"></script>',
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    assets, openapi = _urls(request)
    return _page(request, "", f'<redoc spec-url="{openapi}"></redoc>\n<script src="{assets}/{REDOC}.js"></script>')


@router.get(ASSETS_PATH + "/{name}")
def asset(name: str) -> FileResponse:
    found = ASSETS.get(name)
    if found is None:
        raise HTTPException(status_code=404, detail="Not Found")
    path, media_type, cache_control = found
    return FileResponse(path, media_type=f"{media_type}; charset=utf-8", headers={"Cache-Control": cache_control})
