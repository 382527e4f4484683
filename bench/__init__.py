"""Benchmarks: `make bench` (or `python -m bench`) prints one table, every figure from one run."""
