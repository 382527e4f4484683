"""Explanation assembly: framework-free and engine-free (it receives evaluations)."""
