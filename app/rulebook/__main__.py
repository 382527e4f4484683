"""`make digest`: the two lines to record in rules/CHANGELOG.md for the rulebook as it is now."""

import sys
from pathlib import Path

from app.rulebook import load_rulebook

book = load_rulebook(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("rules"), None)
print(f"## {book.meta.version} ({book.meta.date.isoformat()})\ndigest: {book.digest}")
