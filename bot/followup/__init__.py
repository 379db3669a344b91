"""Follow-up: "Did that solve it?", the CSAT rating with an optional comment, and scheduled
check-ins that survive restarts (docs/followup.md)."""
