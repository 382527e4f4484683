from fastapi import APIRouter

from app.core.explain import citations
from app.core.service import ExplainerService
from app.routes.deps import ServiceDep
from schemas.explanation import About, CategoryOut, ConditionOut, ParameterOut, RulebookOut, RuleOut, SourceOut

router = APIRouter(prefix="/v1", tags=["catalogue"])


def _sources(svc: ExplainerService) -> list[SourceOut]:
    return [SourceOut(**s.model_dump()) for s in svc.book.sources.values()]


@router.get("/sources", response_model=list[SourceOut], summary="The five source documents")
async def sources(svc: ServiceDep) -> list[SourceOut]:
    return _sources(svc)


@router.get("/about", response_model=About, summary="What the tool is for and not for, its sources and limits")
async def about(svc: ServiceDep) -> About:
    meta = svc.book.meta
    return About(
        purpose=meta.purpose.strip(),
        not_for=meta.not_for.strip(),
        rulebook=svc.explainer.stamp,
        sources=_sources(svc),
        review=meta.review.strip(),
        limits=meta.limits.strip(),
    )


@router.get("/categories", response_model=list[CategoryOut], summary="The treatment categories")
async def categories(svc: ServiceDep) -> list[CategoryOut]:
    return [
        CategoryOut(id=c.id, label=c.label, description=c.description.strip(), citations=citations(c.cites))
        for c in svc.book.categories
    ]


@router.get("/rules", response_model=RulebookOut, summary="The whole rulebook, for transparency and teaching")
async def rules(svc: ServiceDep) -> RulebookOut:
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
