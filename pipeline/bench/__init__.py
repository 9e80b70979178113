"""Benchmarks that print figures: ``python -m pipeline.bench [extract|scale|report]``."""
