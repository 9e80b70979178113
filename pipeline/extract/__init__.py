"""Extractors: text in, spans out (figures, organization mentions, keywords, themes)."""
