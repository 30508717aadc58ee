"""Benchmarks: scripts that print figures and ratios against the engine, never assertions."""
