"""Sundial's benchmark against the real stack: ``make bench`` (or ``python -m bench``).

See docs/benchmarks.md for what it measures, how, and the figures of the last run.
"""
