"""The relay form on screen: inputs per profile with their help, errors next to the field, run/save/load."""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from checks.safe_text import markdown, visible
from checks.settings.config import FieldError
from console.forms import (
    FieldSpec,
    build_config,
    errors_by_field,
    fields_for,
    parse_settings_file,
    settings_toml,
    settings_values,
)
from console.history_store import label_input
from console.state import (
    ERRORS_KEY,
    HELD_KEY,
    PROFILE_KEY,
    REPORT_KEY,
    SIGNED_IN_KEY,
    apply_profile,
    forget_secret,
    form_values,
    held_secrets,
    hold_typed_secrets,
    key,
    load_form,
    secret_key,
)

PENDING_KEY = "check.pending_config"
UPLOAD_KEY = "check.settings_upload"
LOAD_MESSAGE_KEY = "check.load_message"
SERVER = ("host", "port", "security")
ROW_WIDTHS = {"host": 3, "port": 1, "security": 1, "username": 1, "password": 1, "sender": 1, "tenant_id": 1,
              "client_id": 1, "client_secret": 1, "secret_expires": 1, "cloud": 1, "timeout": 1, "deadline": 1}


def submitted_secrets(state: MutableMapping[str, Any]) -> dict[str, str]:
    """Secrets for a run: those held for this session, plus the refresh token of 'Sign in with Microsoft'."""
    hold_typed_secrets(state)
    secrets = held_secrets(state)
    signed_in = state.get(SIGNED_IN_KEY)
    if signed_in is not None and "refresh_token" not in secrets:
        secrets["refresh_token"] = signed_in.refresh_token.reveal()
    return secrets


def validate_and_queue(state: MutableMapping[str, Any]) -> None:
    """Run button callback: a valid config queued for this rerun, or the field errors and no result on screen
    (a report of other settings must not look like the answer to these)."""
    values = settings_values(form_values(state), extra_secrets=submitted_secrets(state))
    config, errors = build_config(values)
    state[ERRORS_KEY] = errors_by_field(errors)
    state[PENDING_KEY] = config
    if config is None:
        state.pop(REPORT_KEY, None)


def take_pending(state: MutableMapping[str, Any]) -> Any:
    return state.pop(PENDING_KEY, None)


def load_uploaded_settings(state: MutableMapping[str, Any]) -> None:
    """Settings-file uploader callback: fill the form from the file, or say why not (the form stays as it was)."""
    uploaded = state.get(UPLOAD_KEY)
    if uploaded is None:
        return
    apply_settings_file(state, uploaded.getvalue(), uploaded.name)


def apply_settings_file(state: MutableMapping[str, Any], data: bytes, name: str) -> tuple[FieldError, ...]:
    """Load a settings TOML into the form; on errors nothing changes and the errors are shown."""
    values, errors = parse_settings_file(data)
    if errors:
        state[LOAD_MESSAGE_KEY] = ("error", f"{name} was not loaded: " + "; ".join(str(e) for e in errors))
        return errors
    load_form(state, values)
    state[ERRORS_KEY] = {}
    state.pop(REPORT_KEY, None)
    state[LOAD_MESSAGE_KEY] = ("success", f"Loaded {name}. Type the password or secret: files never hold them.")
    return ()


def _settings_changed(state: MutableMapping[str, Any]) -> None:
    """A new profile or sign-in method: the guide's server values, and the old result goes."""
    apply_profile(state)
    state.pop(REPORT_KEY, None)


def profile_picker(options: list[str], label_of: Any) -> str:
    return st.selectbox("Setup to check", options, format_func=label_of, key=PROFILE_KEY,
                        on_change=_settings_changed, args=(st.session_state,),
                        help="The presets follow the setup guide; picking one fills in its server values.")


def auth_picker(profile_id: str) -> None:
    """The custom profile's sign-in method, above the fields it shows or hides (outside the form: it redraws it)."""
    spec = next((s for s in fields_for(profile_id) if s.key == "auth"), None)
    if spec is not None:
        st.selectbox(spec.label, spec.options, key=key("auth"), help=spec.help, on_change=_settings_changed,
                     args=(st.session_state,))


def _widget(spec: FieldSpec) -> None:
    name = key(spec.key)
    if spec.kind == "secret":
        is_held = spec.key in (st.session_state.get(HELD_KEY) or {})
        st.text_input(spec.label, key=secret_key(st.session_state, spec.key), type="password", help=spec.help,
                      autocomplete="new-password",
                      placeholder="•••••••• set for this session — type to replace" if is_held else "")
    elif spec.kind == "select":
        st.selectbox(spec.label, spec.options, key=name, help=spec.help)
    elif spec.kind == "date":
        st.date_input(spec.label, key=name, help=spec.help, min_value=dt.date(2000, 1, 1),
                      max_value=dt.date(2100, 12, 31), format="YYYY-MM-DD")
    else:  # numbers too: a number input would silently keep its old value for 99999; the form says why not
        st.text_input(spec.label, key=name, help=spec.help, placeholder=spec.placeholder)


def _field(spec: FieldSpec, errors: dict[str, list[str]]) -> None:
    _widget(spec)
    for message in errors.get(spec.key, ()):
        st.markdown(f":red[:material/error: {spec.label} {markdown(message)}]")


def _row(specs: list[FieldSpec], errors: dict[str, list[str]]) -> None:
    """Fields side by side on a wide screen (stacked on a phone), each with its own error under it."""
    if len(specs) == 1:
        _field(specs[0], errors)
        return
    columns = st.columns([ROW_WIDTHS.get(s.key, 1) for s in specs])
    for column, spec in zip(columns, specs, strict=True):
        with column:
            _field(spec, errors)


def _forget_buttons(specs: list[FieldSpec]) -> None:
    held = st.session_state.get(HELD_KEY) or {}
    for spec in specs:
        if spec.kind == "secret" and spec.key in held:
            st.form_submit_button(f"Forget the saved {spec.label.lower()}", key=f"forget.{spec.key}",
                                  type="tertiary", icon=":material/delete:", on_click=forget_secret,
                                  args=(st.session_state, spec.key))


def relay_form(profile_id: str) -> bool:
    """The form with the inputs the profile needs, errors under their field; True when Run was pressed."""
    state = st.session_state
    errors: dict[str, list[str]] = state.get(ERRORS_KEY) or {}
    specs = [s for s in fields_for(profile_id, auth=str(state.get(key("auth")) or "password")) if s.key != "auth"]
    shown = {s.key for s in specs} | {"auth"}
    account = [s for s in specs if not s.advanced and s.key not in (*SERVER, "send_test_to")]
    advanced = [s for s in specs if s.advanced]
    with st.form("relay", border=True, enter_to_submit=True):
        _row([s for s in specs if s.key in SERVER], errors)
        for start in range(0, len(account), 3):
            _row(account[start:start + 3], errors)
        _row([next(s for s in specs if s.key == "send_test_to")], errors)
        label_input()
        with st.expander("Advanced (DNS server, CA file, timeouts)",
                         expanded=any(s.key in errors for s in advanced)):
            for start in range(0, len(advanced), 2):
                _row(advanced[start:start + 2], errors)
        others = [f"{field} {m}" for field, messages in errors.items() if field not in shown for m in messages]
        if others:
            st.error("\n\n".join(markdown(o) for o in others))
        if errors:
            st.error(f"Fix the {sum(len(m) for m in errors.values())} field(s) marked in red, then run again.",
                     icon=":material/error:")
        pressed = st.form_submit_button("Run checks", icon=":material/play_arrow:", type="primary",
                                        on_click=validate_and_queue, args=(state,))
        _forget_buttons(specs)
    return pressed


def signed_in_note() -> None:
    signed_in = st.session_state.get(SIGNED_IN_KEY)
    if signed_in is not None:
        st.success(f"Signed in with Microsoft as **{markdown(signed_in.account or 'your account')}**: the refresh token is "
                   "used for this run (held in this session only, never shown or saved).", icon=":material/key:")
    else:
        st.page_link("pages/sign_in.py", label="Sign in with Microsoft to get a refresh token", icon=":material/key:")


def save_settings_button() -> None:
    values = settings_values(form_values(st.session_state))
    text, errors = settings_toml(values)
    if text is None:
        st.download_button("Save settings (.toml)", icon=":material/save:", data=b"", disabled=True,
                           help="Fix these first: " + "; ".join(str(e) for e in errors))
    else:
        st.download_button("Save settings (.toml)", icon=":material/save:", data=text.encode("utf-8"), file_name="relay-settings.toml",
                           mime="application/toml", on_click="ignore",
                           help="The settings without any password or secret.")


def load_settings_control() -> None:
    st.file_uploader("Load settings (.toml)", type=["toml"], key=UPLOAD_KEY, on_change=load_uploaded_settings,
                     args=(st.session_state,), help="A file saved here or used with `python -m checks run --config`.")


def load_message() -> None:
    """What loading a settings file did, above the form (the loader may be folded away)."""
    message = st.session_state.pop(LOAD_MESSAGE_KEY, None)
    if message:
        (st.error if message[0] == "error" else st.success)(markdown(message[1]), icon=":material/upload_file:")


def oauth_fields() -> None:
    """The app-registration fields of the Microsoft 365 OAuth2 setup (shared with Check a relay)."""
    errors: dict[str, list[str]] = st.session_state.get(ERRORS_KEY) or {}
    wanted = ("tenant_id", "client_id", "client_secret", "sender", "cloud")
    specs = [s for s in fields_for("m365-oauth2") if s.key in wanted]
    _row(specs[:2], errors)
    _row(specs[2:], errors)


def show_outcome(outcome: Any) -> None:
    """A sign-in step's outcome: success, or the cause and the fix."""
    if outcome.ok:
        st.success(markdown(outcome.summary))
        return
    st.error(markdown(outcome.summary))
    if outcome.details:
        st.text(visible(outcome.details))
    if outcome.remediation:
        st.info(f"**How to fix:** {markdown(outcome.remediation)}", icon=":material/build:")
    if outcome.guide_section:
        st.caption(f"Setup guide: {markdown(outcome.guide_section)}")
