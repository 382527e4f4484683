"""The exercises as one object the routes, the exports and the command line call: the vignette library,
its items keyed by the engine, seeded variants, and scoring. Built exercises are cached: a key depends only
on the case and the rulebook, and the rulebook does not change while the process runs."""

from functools import lru_cache
from pathlib import Path

from app.core.service import ExplainerService
from app.exercises.items import Built, ItemBuilder
from app.exercises.library import Library, load_library
from app.exercises.scoring import Sheet, score_sheet
from app.exercises.variants import candidates, draw, thresholds
from schemas.case import Case
from schemas.exercise import AnswerSheet, Exercise, ExerciseDetail, ExerciseSummary, ScoreReport, VignetteFile


class UnknownExercise(KeyError):
    pass


class Exercises:
    def __init__(self, svc: ExplainerService, library: Library) -> None:
        self.svc = svc
        self.library = library
        self.builder = ItemBuilder(svc)
        self.disclaimer = " ".join(svc.book.meta.disclaimer.split())
        self._thresholds = thresholds(svc.book)
        self._built = lru_cache(maxsize=512)(self._build)
        # A class shares a seed, so few are live at once; a small cache keeps requests with ever new seeds
        # from holding memory (each entry is up to MAX_VARIANTS built exercises).
        self._variants = lru_cache(maxsize=32)(self._build_variants)

    def summaries(self) -> list[ExerciseSummary]:
        return [
            ExerciseSummary(id=v.id, title=v.title, objectives=v.objectives, difficulty=v.difficulty, tags=v.tags)
            for v in self.library.vignettes.values()
        ]

    def vignette(self, exercise_id: str) -> VignetteFile:
        try:
            return self.library.vignettes[exercise_id]
        except KeyError:
            raise UnknownExercise(exercise_id) from None

    def built(self, exercise_id: str) -> Built:
        self.vignette(exercise_id)
        return self._built(exercise_id)

    def _build(self, exercise_id: str) -> Built:
        v = self.library.vignettes[exercise_id]
        exercise = Exercise(
            id=v.id,
            title=v.title,
            story=" ".join(v.story.split()),
            case=v.case,
            objectives=v.objectives,
            difficulty=v.difficulty,
            tags=v.tags,
            rules=v.rules,
            sources=v.sources,
            items=[],
        )
        return self.builder.build(exercise)

    def key_of(self, case: Case) -> tuple[str, ...]:
        """The engine's key of a case: every category's status, `depends` where it has a depends_on. Read from
        the same evaluation, partition and dependency finder `explain` uses, without assembling the whole
        explanation (variants try many cases; tests check the variants' keys against `explain`)."""
        evaluation = self.svc.evaluate(case.known_facts())
        statuses = self.svc.explainer.partition(evaluation.fired)
        depends = self.svc.dependencies.find(case, evaluation)
        return tuple("depends" if depends.get(c) else statuses[c] for c in self.builder.order)

    def variants(self, exercise_id: str, seed: int | None, count: int) -> list[Built]:
        self.vignette(exercise_id)
        if seed is None or count == 0:
            return []
        return self._variants(exercise_id, seed, count)

    def _build_variants(self, exercise_id: str, seed: int, count: int) -> list[Built]:
        parent = self.built(exercise_id)
        ex = parent.exercise
        explanation = self.svc.explain(ex.case, what_if=True)
        moving = {c.field for c in explanation.what_if.changes} if explanation.what_if else set()
        pool = candidates(ex.case, self._thresholds, moving)
        parent_ids = frozenset(parent.keyed)
        out = []
        for variant in draw(ex.id, ex.case, pool, seed, count, self.key_of):
            changed = "; ".join(c.text for c in variant.changes)
            exercise = ex.model_copy(
                update={
                    "id": variant.id,
                    "title": f"{ex.title} (variant: {changed})",
                    "story": f"{ex.story} Variant: unlike the story above, {changed}.",
                    "case": variant.case,
                    "parent": ex.id,
                    "changes": variant.changes,
                    "items": [],
                }
            )
            out.append(self.builder.build(exercise, parent_ids))
        return out

    def detail(self, exercise_id: str, seed: int | None, count: int, with_key: bool) -> ExerciseDetail:
        main = self.built(exercise_id).exercise
        variants = [b.exercise for b in self.variants(exercise_id, seed, count)]
        if not with_key:
            main, variants = _without_keys(main), [_without_keys(v) for v in variants]
        return ExerciseDetail(
            exercise=main,
            variants=variants,
            seed=seed if count else None,
            disclaimer=self.disclaimer,
            rulebook=self.svc.explainer.stamp,
        )

    def score(self, exercise_id: str, sheet: AnswerSheet) -> ScoreReport:
        built = [self.built(exercise_id), *self.variants(exercise_id, sheet.seed, sheet.variants)]
        return score_sheet(
            exercise_id, built, Sheet(sheet.mode, dict(sheet.answers)), self.disclaimer, self.svc.explainer.stamp
        )

    def everything(
        self, seed: int | None, count: int, only: list[str] | None = None
    ) -> list[tuple[Built, list[Built]]]:
        """Every vignette (or `only` these) with its variants, in library order: what the exports write."""
        ids = [i for i in self.library.vignettes if only is None or i in only]
        return [(self.built(i), self.variants(i, seed, count)) for i in ids]


def _without_keys(exercise: Exercise) -> Exercise:
    # A status item's note says how it is keyed ("Keyed commonly discussed (in general)"): withheld too.
    hidden = {"key": None, "before": None, "after": None}
    return exercise.model_copy(
        update={
            "items": [
                i.model_copy(update={**hidden, "note": None} if i.type == "status" else hidden) for i in exercise.items
            ]
        }
    )


def load_exercises(svc: ExplainerService, folder: Path, seeds_dir: Path | None) -> Exercises:
    """The exercises of the vignette folder, checked against the service's rulebook (start-up)."""
    return Exercises(svc, load_library(folder, svc.book, seeds_dir))
