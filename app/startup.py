"""Builds the service once at start-up: load and check the rulebook, compile it into the
engine, and run every rule's examples through the engine before the first request."""

import logging

from app.core.depends import field_rulebooks, status_rulebook
from app.core.evaluation import Evaluate
from app.core.explain import Explainer
from app.core.service import ExplainerService
from app.engine import RulesEngine
from app.quotes import quote_check
from app.rulebook import Rulebook, check_examples, load_rulebook
from app.settings import Settings

log = logging.getLogger("livermets")


def build_service(settings: Settings) -> ExplainerService:
    if settings.seeds_dir is None:
        log.warning("LIVERMETS_VERIFY_QUOTES=false: citations are not checked against the source documents")
    documents = settings.quote_documents()
    book = load_rulebook(
        settings.rules_dir,
        documents,
        max_file_bytes=settings.rules_max_file_bytes,
        max_total_bytes=settings.rules_max_total_bytes,
    )
    quotes = quote_check(book, settings.rules_dir, documents, required=settings.seeds_dir is not None)
    engine = RulesEngine(book)
    check_examples(book, engine.evaluate)
    log.log(
        logging.INFO if quotes.verified_digest else logging.WARNING,
        "rulebook %s (%s) loaded: %d rules. %s",
        book.meta.version,
        book.meta.date,
        len(book.rules),
        quotes.statement,
    )
    status_engine = RulesEngine(status_rulebook(book))
    by_field: dict[str, tuple[Rulebook, Evaluate]] = {
        name: (sub, RulesEngine(sub).evaluate) for name, sub in field_rulebooks(book).items()
    }
    return ExplainerService(
        book=book,
        evaluate=engine.evaluate,
        explainer=Explainer(book),
        evaluate_status=status_engine.evaluate,
        evaluate_by_field=by_field,
        quotes=quotes,
    )
