"""Chinese news text analytics: ingest -> segment -> extract -> tables -> report."""
__version__ = "0.1.0"
