"""The console's run history: one shared store per database URL, every run and batch saved with its label."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from checks.batch.run import BatchReport
from checks.history.location import history_disabled, keep_days, store_url
from checks.history.records import Source
from checks.history.store import RunStore, StoreError, open_store
from checks.model import RunReport
from console.run_ledger import LEDGER, WINDOW_SECONDS

LABEL_KEY = "history.label"
LABEL = "Customer / ticket"
LABEL_HELP = "Optional. Saved with the run so it can be found on the History page (no secrets here, please)."
HISTORY_PATH = "history"  # the History page's URL path: /history?run=ID opens a run


PRUNE_EVERY = dt.timedelta(hours=1)  # the console deletes runs past the retention at most this often


@st.cache_resource(show_spinner=False)
def _store_at(url: str) -> RunStore:
    return open_store(url)


@st.cache_resource(show_spinner=False)
def _last_prune() -> dict[str, dt.datetime]:
    return {}


def _keep_to_retention(store: RunStore) -> None:
    """Delete runs older than $RELAY_CONSOLE_KEEP_DAYS, at most once an hour per database."""
    done, now, url = _last_prune(), dt.datetime.now(dt.UTC), str(store.engine.url)
    if url in done and now - done[url] < PRUNE_EVERY:
        return
    done[url] = now
    try:
        store.prune(keep_days())
    except Exception:  # noqa: BLE001 - a bad retention setting or a busy database must not lose the run shown
        return


def history_store() -> RunStore | None:
    """The store named by RELAY_CONSOLE_DB (default: an SQLite file in the user data folder); None when turned
    off or unusable (the reason is shown once, on the page that asked)."""
    if history_disabled():
        return None
    try:
        return _store_at(store_url())
    except (StoreError, ValueError) as exc:
        st.warning(f"Run history is not available: {exc}", icon=":material/history_toggle_off:")
        return None


def console_user() -> str:
    """Who is signed in to the console, when it has sign-in configured ('' otherwise)."""
    try:
        user = st.user
        return str(user.get("email") or user.get("name") or "") if user.get("is_logged_in") else ""
    except Exception:  # noqa: BLE001 - no sign-in configured, or an older Streamlit: nobody known
        return ""


def label_input() -> str:
    """The 'Customer / ticket' field of a run form (kept across reruns)."""
    return st.text_input(LABEL, key=LABEL_KEY, max_chars=200, help=LABEL_HELP, placeholder="e.g. Contoso, T-1234")


def run_link(run_id: str) -> str:
    return f"{HISTORY_PATH}?run={run_id}"


def save_report(report: RunReport, *, label: str = "", hide: Sequence[str] = ()) -> None:
    """Save a console run (never a practice run: the caller decides) and say where it can be found again."""
    store = history_store()
    if store is None:
        return
    try:
        store.save(report, setup=label or None, label=label, user=console_user(), source=Source.CONSOLE, hide=hide)
    except Exception as exc:  # noqa: BLE001 - the run is shown anyway; say why it is not kept
        st.warning(f"This run was not saved in the history ({type(exc).__name__}).", icon=":material/history:")
        return
    st.caption(f"Saved in History as run `{report.run_id}` — link for a ticket: `{run_link(report.run_id)}`")
    _keep_to_retention(store)


def save_batch_report(batch: BatchReport, *, label: str = "") -> None:
    """Save every finished setup of a console batch, each under its setup name, in one transaction."""
    store = history_store()
    if store is None or not batch.outcomes:
        return
    previous = store.latest_of(o.name for o in batch.outcomes)
    items = [(o.report, {"setup": o.name, "label": label, "user": console_user(), "source": Source.CONSOLE_BATCH,
                         "batch_id": batch.batch_id, "previous": previous.get(o.name)}) for o in batch.outcomes]
    try:
        store.save_many(items)
    except Exception as exc:  # noqa: BLE001 - the batch is shown anyway
        st.warning(f"This batch was not saved in the history ({type(exc).__name__}).", icon=":material/history:")
        return
    st.caption(f"Saved in History: {len(items)} runs of batch `{batch.batch_id}`.")
    _keep_to_retention(store)


class SharedLedger:
    """The hosting guard's run counts kept in a PostgreSQL history, so the limit holds across console replicas
    (same interface as console.run_ledger.RunLedger; if the database fails, this replica counts on its own)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def take(self, keys: tuple[str, ...], count: int, limit: int) -> float | None:
        try:
            return self.store.take_runs(keys, count=count, limit=limit, window=dt.timedelta(seconds=WINDOW_SECONDS))
        except Exception:  # noqa: BLE001 - a database outage must not stop the console; the local count still holds
            return LEDGER.take(keys, count, limit)


def shared_ledger() -> SharedLedger | None:
    """The database ledger when the history is a PostgreSQL database (shared by replicas), else None."""
    if history_disabled():
        return None
    try:
        shared = store_url().startswith("postgresql")
    except ValueError:
        return None
    store = history_store() if shared else None
    return SharedLedger(store) if store is not None else None
