"""Streams: the SSE format, stream limits and tickets, stream responses, fan-out hubs."""
