"""Evaluation on development gold: ``python -m pipeline.evaluate [figures|orgs]``."""
