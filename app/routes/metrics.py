"""GET /metrics: the Prometheus text format (app/metrics.py). Not part of the API's OpenAPI document
(it is for the operator's monitoring, not for API clients); behind the API key when one is set."""

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from app.metrics import METRICS_PATH, Metrics

router = APIRouter(include_in_schema=False)


@router.get(METRICS_PATH)
async def metrics(request: Request) -> Response:
    found: Metrics = request.app.state.metrics
    # Text format 0.0.4: what every Prometheus server reads (1.0.0 is the library's newer default).
    return Response(found.exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4, headers={"Cache-Control": "no-store"})
