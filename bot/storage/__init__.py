"""Database plumbing shared by the bot's stores: a SQLite file and a PostgreSQL pool."""
