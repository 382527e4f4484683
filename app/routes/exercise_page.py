"""The exercise page at /exercises: one static HTML page with its own script and stylesheet from
app/web/, calling the /v1/exercises API of the same origin. Served like the MDT page (app/routes/page.py):
the same Content-Security-Policy and headers, an allow-list of files, nothing inline or from elsewhere."""

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.routes.page import PAGE_HEADERS, WEB_DIR, serve_asset

# Its own path for assets: /static/ is the MDT page's allow-list, which this module leaves alone.
ASSETS = {
    "exercises.js": "text/javascript; charset=utf-8",
    "exercise-dom.js": "text/javascript; charset=utf-8",
    "exercise-items.js": "text/javascript; charset=utf-8",
    "exercise-feedback.js": "text/javascript; charset=utf-8",
    "exercise-teacher.js": "text/javascript; charset=utf-8",
    "exercises.css": "text/css; charset=utf-8",
}

router = APIRouter(tags=["page"], include_in_schema=False)


@router.get("/exercises")
def exercise_page() -> FileResponse:
    return FileResponse(WEB_DIR / "exercises.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@router.get("/exercises/assets/{name}")
def exercise_asset(name: str) -> FileResponse:
    return serve_asset(name, ASSETS)
