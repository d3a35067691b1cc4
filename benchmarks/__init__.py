"""Benchmarks (`make bench`): timing goals live here, never in pass/fail tests."""
