"""Optional defaults from .streamlit/secrets.toml; the console runs without that file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st


def secrets_section(name: str) -> dict[str, Any]:
    """A table of st.secrets as a plain dict, or {} when there is no secrets file or no such table."""
    try:
        section = st.secrets.get(name)
    except FileNotFoundError:  # no secrets.toml anywhere: the normal case for a first run
        return {}
    except Exception:  # noqa: BLE001 - a broken secrets.toml must not take the console down
        return {}
    return dict(section) if isinstance(section, Mapping) else {}
