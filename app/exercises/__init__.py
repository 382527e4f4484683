"""Exercises for teaching: vignettes from exercises/vignettes/, items keyed by the engine, scoring with
elaborated feedback, seeded variants and exports (Moodle XML, QTI 1.2, Anki, a printable handout).
Knows nothing of HTTP."""
