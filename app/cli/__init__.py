"""Command-line entry points: keys, the container health check, the OpenAPI writer."""
