"""Benchmarks: scripts that print ratios, never assertions."""
