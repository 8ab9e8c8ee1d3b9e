"""The engines a user would pick instead of almp, given the same decision (benchmarks only)."""
