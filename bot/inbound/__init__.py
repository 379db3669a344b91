"""What every channel adapter does with customer input before Rasa sees it (docs/security.md)."""
