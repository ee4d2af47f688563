"""Benchmarks: each module measures cscflow beside a baseline in the same run (never a timed test)."""
