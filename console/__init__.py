"""UI helpers of the Streamlit console: forms, results, progress, state, OAuth flow store (no engine logic)."""
