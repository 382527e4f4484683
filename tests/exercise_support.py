"""Shared, built-once objects of the exercise tests: the service, the exercises of the test fixtures
(tests/fixtures/vignettes/) and of the teaching library (exercises/vignettes/), and an app serving the
fixtures."""

from functools import cache
from pathlib import Path

from app.core.service import ExplainerService
from app.exercises.service import Exercises, load_exercises
from app.settings import PROJECT_ROOT, Settings
from app.startup import build_service
from tests.conftest import RULES_DIR, seeds_dir

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vignettes"
LIBRARY = PROJECT_ROOT / "exercises" / "vignettes"
GOLDEN_VIGNETTE = "crc-solitary-fit"


def settings(exercises_dir: Path = FIXTURES) -> Settings:
    return Settings(rules_dir=RULES_DIR, seeds_dir=seeds_dir(), exercises_dir=exercises_dir)


@cache
def service() -> ExplainerService:
    return build_service(settings())


@cache
def fixture_exercises() -> Exercises:
    return load_exercises(service(), FIXTURES, seeds_dir())


@cache
def library_exercises() -> Exercises:
    return load_exercises(service(), LIBRARY, seeds_dir())


def every_exercises() -> list[Exercises]:
    return [fixture_exercises(), library_exercises()]
