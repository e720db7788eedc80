"""Benchmarks: the intake path, the worker's own processing time per message (rules and Claude,
model latency excluded), each function's cold init, and the rule-based extractor's accuracy.

Run from the repository root: ``.venv/bin/python -m bench`` (``make bench``). Prints tables and
writes every number to ``.bench/results.json``. See ``bench/__main__.py`` for what is measured.
"""
