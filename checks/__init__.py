"""Relay console engine: runs the SMTP relay checklist and reports each step; never imports Streamlit."""

__version__ = "0.1.0"
