"""Benchmarks (`make bench-*`): figures against the stock Rasa setup, measured in the same run."""
