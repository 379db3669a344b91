"""One module per `bot` command."""
