"""The catalogue: what the service knows, for transparency and teaching. Each answer changes only
with the rulebook, so each has an ETag and answers If-None-Match with 304 (app/caching.py)."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter

from app.caching import OPENAPI_EXTRA, OPENAPI_RESPONSES, catalogue_answers
from app.core.explain import citations
from app.core.service import ExplainerService
from app.routes.deps import ServiceDep
from schemas.explanation import About, CategoryOut, ConditionOut, ParameterOut, RulebookOut, RuleOut, SourceOut

router = APIRouter(prefix="/v1", tags=["catalogue"], responses=OPENAPI_RESPONSES)


def _cached(
    request: Request,
    svc: ExplainerService,
    model: Any,
    build: Callable[[ExplainerService], object],
) -> Response:
    """The answer `build(svc)` as JSON of `model`, kept with its ETag (built once per rulebook)."""
    return catalogue_answers(request).answer(request, svc, lambda: TypeAdapter(model).dump_json(build(svc)))


def _sources(svc: ExplainerService) -> list[SourceOut]:
    return [SourceOut(**s.model_dump()) for s in svc.book.sources.values()]


@router.get(
    "/sources", response_model=list[SourceOut], summary="The five source documents", openapi_extra=OPENAPI_EXTRA
)
async def sources(svc: ServiceDep, request: Request) -> Response:
    return _cached(request, svc, list[SourceOut], _sources)


@router.get(
    "/about",
    response_model=About,
    summary="What the tool is for and not for, its sources and limits",
    openapi_extra=OPENAPI_EXTRA,
)
async def about(svc: ServiceDep, request: Request) -> Response:
    return _cached(request, svc, About, _about)


def _about(svc: ExplainerService) -> About:
    meta = svc.book.meta
    return About(
        purpose=meta.purpose.strip(),
        not_for=meta.not_for.strip(),
        rulebook=svc.explainer.stamp,
        quotes=svc.quotes,
        sources=_sources(svc),
        review=meta.review.strip(),
        limits=meta.limits.strip(),
    )


@router.get(
    "/categories", response_model=list[CategoryOut], summary="The treatment categories", openapi_extra=OPENAPI_EXTRA
)
async def categories(svc: ServiceDep, request: Request) -> Response:
    return _cached(request, svc, list[CategoryOut], _categories)


def _categories(svc: ExplainerService) -> list[CategoryOut]:
    return [
        CategoryOut(id=c.id, label=c.label, description=c.description.strip(), citations=citations(c.cites))
        for c in svc.book.categories
    ]


@router.get(
    "/rules",
    response_model=RulebookOut,
    summary="The whole rulebook, for transparency and teaching",
    openapi_extra=OPENAPI_EXTRA,
)
async def rules(svc: ServiceDep, request: Request) -> Response:
    return _cached(request, svc, RulebookOut, _rules)


def _rules(svc: ExplainerService) -> RulebookOut:
    book = svc.book
    return RulebookOut(
        version=book.meta.version,
        date=book.meta.date,
        digest=book.digest,
        parameters=[
            ParameterOut(id=p.id, label=p.label, value=p.value, meaning=p.meaning.strip(), citations=citations(p.cites))
            for p in book.parameters.values()
        ],
        rules=[
            RuleOut(
                id=r.id,
                file=r.file,
                version=r.spec.version,
                date=r.spec.date,
                effect=r.spec.effect,
                category=r.spec.category,
                derives=r.spec.derives,
                label=r.spec.label,
                investigation=r.spec.investigation,
                only_with_discussed=r.spec.only_with_discussed,
                unless_fired=r.spec.unless_fired,
                when=[
                    ConditionOut(field=c.field, op=c.op, value=c.value, param=c.param, fact=c.fact, text=c.text())
                    for c in r.conditions
                ],
                because=r.spec.because.strip(),
                citations=citations(r.spec.cites),
            )
            for r in book.rules
        ],
    )
