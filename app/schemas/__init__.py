"""Pydantic models of the HTTP surface: request specs and response views, kept apart."""
