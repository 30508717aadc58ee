"""Stateless use cases per resource: validated spec → engine calls → view. No FastAPI here."""
