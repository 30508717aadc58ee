"""HTTP plumbing around the routers: request ids, access log, idempotency, error rendering."""
