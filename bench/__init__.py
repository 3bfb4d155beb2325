"""Benchmarks of ingest and answering (``python -m bench``); see bench/__main__.py."""
