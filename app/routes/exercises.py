"""Exercises for teaching (app/exercises/): the vignette list, one exercise with its items (keys only when
asked), scoring with elaborated feedback, and the exports for learning platforms. Thin: every key comes
from the engine through app.exercises; building variants and exports runs in the what-if worker threads."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from app.errors import ErrorResponse, ServiceNotReady, error_response, problem
from app.exercises.export import FILES, file_name, render_export
from app.exercises.scoring import AnswerProblem
from app.exercises.service import Exercises, UnknownExercise
from app.routes.deps import LimitsDep
from schemas.exercise import (
    MAX_SEED,
    MAX_VARIANTS,
    AnswerSheet,
    ExerciseDetail,
    ExerciseSummary,
    ExportFormat,
    ScoreReport,
)

router = APIRouter(prefix="/v1/exercises", tags=["exercises"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "No exercise with that id"}}
BUSY: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorResponse,
        "description": "Too much heavy work at once on this server (`busy`, with Retry-After), or the rulebook "
        "is still loading (`not_ready`).",
    }
}
ExerciseId = Annotated[str, Path(description="A vignette id from GET /v1/exercises.", max_length=80)]
Seed = Annotated[
    int | None,
    Query(ge=0, le=MAX_SEED, description="Seed of the generated variants: the same seed, the same variants."),
]
Count = Annotated[
    int, Query(ge=0, le=MAX_VARIANTS, description="Generated variants per vignette; none without `seed`.")
]


async def exercises(request: Request) -> Exercises:
    found: Exercises | None = getattr(request.app.state, "exercises", None)
    if found is None:
        raise ServiceNotReady
    return found


ExercisesDep = Annotated[Exercises, Depends(exercises)]


def _not_found(exercise_id: str) -> Response:
    return error_response(404, "not_found", [problem("path.exercise_id", f"no exercise {exercise_id[:80]!r}")])


@router.get("", response_model=list[ExerciseSummary], summary="The vignettes: id, title, objectives, difficulty, tags")
async def list_exercises(ex: ExercisesDep) -> list[ExerciseSummary]:
    return ex.summaries()


@router.get(
    "/export",
    summary="The vignettes (all, or those in `ids`) as a Moodle XML, QTI 1.2 (Canvas), Anki or handout file",
    response_class=Response,
    responses={
        200: {
            "description": "The export file (attachment). moodle-xml: Moodle question XML, one question category "
            "per vignette; qti12: a QTI 1.2 zip with imsmanifest.xml; anki: an .apkg deck with note GUIDs "
            "derived from the item ids; handout: printable HTML, questions then the answer key on new pages.",
            "content": {
                f.media_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for f in FILES.values()
            },
        },
        **BUSY,
        404: {"model": ErrorResponse, "description": "An id in `ids` names no exercise"},
    },
)
async def export(
    ex: ExercisesDep,
    limits: LimitsDep,
    fmt: Annotated[ExportFormat, Query(alias="format", description="The file format.")],
    seed: Seed = None,
    variants: Count = 0,
    ids: Annotated[
        str | None,
        Query(max_length=2000, description="Comma-separated vignette ids to export (default: every vignette)."),
    ] = None,
) -> Response:
    only = [i.strip() for i in ids.split(",") if i.strip()] if ids is not None else None
    unknown = [i for i in only or [] if i not in ex.library.vignettes]
    if unknown:
        return error_response(404, "not_found", [problem("query.ids", f"no exercise {unknown[0][:80]!r}")])
    data = await limits.what_if.run(render_export, ex, fmt, seed, variants, only)
    disposition = f'attachment; filename="{file_name(fmt, seed, variants)}"'
    return Response(data, media_type=FILES[fmt].media_type, headers={"Content-Disposition": disposition})


@router.get(
    "/{exercise_id}",
    response_model=ExerciseDetail,
    summary="One vignette with its items (and seeded variants); keys withheld unless with_key=true",
    responses={**NOT_FOUND, **BUSY},
)
async def get_exercise(
    exercise_id: ExerciseId,
    ex: ExercisesDep,
    limits: LimitsDep,
    with_key: Annotated[
        bool, Query(description="Include each item's `key` (and a change item's `before` and `after`).")
    ] = False,
    seed: Seed = None,
    variants: Count = 0,
) -> ExerciseDetail | Response:
    try:
        return await limits.what_if.run(ex.detail, exercise_id, seed, variants, with_key)
    except UnknownExercise:
        return _not_found(exercise_id)


ANSWER_EXAMPLES: dict[str, dict[str, Any]] = {
    "practice": {
        "summary": "Practice mode: feedback for the items answered",
        "value": {
            "mode": "practice",
            "answers": {
                "crc-solitary-fit.status.surgical_resection": "discussed",
                "crc-solitary-fit.concordance.lesion_count-4.ablation": -2,
            },
        },
    },
    "test": {
        "summary": "Test mode with variants: every item scored at the end, unanswered ones 0",
        "value": {"mode": "test", "seed": 7, "variants": 2, "answers": {"crc-solitary-fit.status.ablation": "depends"}},
    },
}


@router.post(
    "/{exercise_id}/answers",
    response_model=ScoreReport,
    summary="Score answers: per item score and elaborated feedback with the reasons and verbatim quotes",
    responses={
        **NOT_FOUND,
        **BUSY,
        413: {"description": "Body too large"},
        422: {"description": "Invalid answers: an item id not in the exercise, or an answer not among its choices"},
    },
)
async def answer(
    exercise_id: ExerciseId,
    sheet: Annotated[AnswerSheet, Body(openapi_examples=ANSWER_EXAMPLES)],
    ex: ExercisesDep,
    limits: LimitsDep,
) -> ScoreReport | Response:
    try:
        return await limits.what_if.run(ex.score, exercise_id, sheet)
    except UnknownExercise:
        return _not_found(exercise_id)
    except AnswerProblem as exc:
        return error_response(422, "invalid_request", [problem(exc.field[:200], str(exc), "invalid_answer")])
