"""Run history: every run kept in a database (SQLite or PostgreSQL), and the watch that compares runs."""
