"""Test support shipped with the project: fake platforms and real bot servers, as a pytest plugin."""
