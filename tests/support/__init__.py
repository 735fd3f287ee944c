"""Helpers the tests share, importable as ``tests.support`` (PYTHONPATH = the repo root)."""
