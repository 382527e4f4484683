"""The patient-view service: read the chart, build the case (app/fhir/mapping.py), run the engine, answer cards.

- no liver metastases on the chart: no cards (`{"cards": []}`), the service has nothing to say;
- liver metastases, but a required input not found: one card naming what is missing and the codes looked for,
  and no explanation (nothing is guessed);
- otherwise one card with what the engine says, its reasons and verbatim quotes."""

from app.cds.cards import Urls, explanation_card, missing_inputs_card
from app.cds.chart import BadPrefetch, FhirClient, fhir_problems, read_chart
from app.core.service import ExplainerService
from app.fhir.mapping import FhirInputError, map_resources
from schemas.cds_hooks import CdsRequest, CdsResponse


async def patient_view(request: CdsRequest, svc: ExplainerService, client: FhirClient, urls: Urls) -> CdsResponse:
    """Raises ChartUnavailable (412) or BadPrefetch (400)."""
    chart = await read_chart(request, client)
    try:
        mapped = map_resources(chart.resources)
    except FhirInputError as exc:
        raise BadPrefetch(fhir_problems("prefetch", exc)) from None
    if not mapped.liver_metastases:
        return CdsResponse(cards=[])
    if mapped.case is None or mapped.missing:
        return CdsResponse(cards=[missing_inputs_card(mapped.missing, svc.book, urls)])
    card = explanation_card(svc.explain(mapped.case), svc.book, urls, chart.not_read, mapped.from_absence)
    return CdsResponse(cards=[card])
