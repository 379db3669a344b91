"""Test support shipped with the project: fake platforms and real servers (pytest plugins)."""
