"""Support bot library."""
