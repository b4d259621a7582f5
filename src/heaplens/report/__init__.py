"""Renderers. Each module renders the same result models (``heaplens.compare.delta``) one way."""
