"""Pydantic models of the API (case in, explanation out) and of the rule files, with their
exported JSON Schema in schemas/json/. Framework-free: nothing here imports FastAPI."""
