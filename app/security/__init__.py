"""Security: API keys, roles, policy profiles, ownership, limits and the audit trail."""
