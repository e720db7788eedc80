"""Performance benchmark of the intake path and of each function's cold init.

Run from the repository root: ``.venv/bin/python -m bench`` (``make bench``). Prints a table and
writes every number to ``.bench/results.json``. See ``bench/__main__.py`` for what is measured.
"""
