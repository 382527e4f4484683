"""The MDT-preparation page: one static HTML page with its script modules and one stylesheet from
app/web/, calling the JSON API of the same origin, and the published Case JSON Schema the page
builds its form from. The app serves every byte the page needs, so
it works offline, and the Content-Security-Policy allows nothing inline and nothing from elsewhere."""

import json
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

from schemas.case import Case

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
# The request's JSON Schema, as schemas/json/case.schema.json publishes it but with the properties in
# the model's order (the export sorts keys), which is the order of the page's form.
CASE_SCHEMA = json.dumps(Case.model_json_schema(), ensure_ascii=False).encode()

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is tiny and changes with the app: revalidate rather than show a stale copy.
    "Cache-Control": "no-cache",
}

# An allow-list rather than a directory mount: nothing else under app/web/ can be fetched.
ASSETS = {
    "page.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "words.js": "text/javascript; charset=utf-8",
    "form.js": "text/javascript; charset=utf-8",
    "cards.js": "text/javascript; charset=utf-8",
    "result.js": "text/javascript; charset=utf-8",
    "tables.js": "text/javascript; charset=utf-8",
    "markdown.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

router = APIRouter(tags=["page"], include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def serve_asset(name: str, allowed: dict[str, str]) -> FileResponse:
    """A file of app/web/ named in an allow-list, with the pages' headers; 404 for any other name."""
    media_type = allowed.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="Not Found")
    return FileResponse(WEB_DIR / name, media_type=media_type, headers=PAGE_HEADERS)


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    return serve_asset(name, ASSETS)


# Outside /v1/, so it stays open when an API key is configured: the page needs it to build its form.
@router.get("/schemas/case.schema.json")
def case_schema() -> Response:
    return Response(CASE_SCHEMA, media_type="application/schema+json", headers={"Cache-Control": "no-cache"})
