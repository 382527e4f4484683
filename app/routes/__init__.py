"""Thin HTTP handlers: validate, call the core, shape the response."""
