"""Reports of a run: export (CSV/JSON/Markdown), the terminal table, import of saved reports, comparison."""
