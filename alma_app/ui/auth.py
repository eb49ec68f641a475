"""The dashboard's password gate: open on loopback, password-protected anywhere else.

The dashboard edits and deletes memories, so it binds 127.0.0.1 by default
(.streamlit/config.toml). Served on any other address (or on none, which Streamlit takes to mean
every interface) it refuses to run until a password is configured, then asks each browser
session for it:

- environment variable ALMA_DASHBOARD_PASSWORD, or
- key `dashboard_password` in .streamlit/secrets.toml.

The entry point calls `require_password()` before navigation, so no page runs for a session
that has not signed in.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os

import streamlit as st

PASSWORD_ENV = "ALMA_DASHBOARD_PASSWORD"
PASSWORD_SECRET = "dashboard_password"
SESSION_KEY = "alma_signed_in"  # the fingerprint of the password this session signed in with
FORM_KEY = "alma_sign_in"


def is_loopback(address: str | None) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost).

    An empty address is not loopback: Streamlit then listens on every interface.
    """
    if not address:
        return False
    host = address.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything, so treat it as exposed


def configured_password() -> str | None:
    """The password from the environment, else from secrets.toml; None when neither is set."""
    from_env = os.environ.get(PASSWORD_ENV, "")
    if from_env:
        return from_env
    try:
        secret = st.secrets.get(PASSWORD_SECRET)
    except FileNotFoundError:  # no secrets.toml anywhere (StreamlitSecretNotFoundError)
        return None
    return str(secret) if secret else None


def _fingerprint(password: str) -> str:
    """What the session keeps: changing the password signs every session out."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def require_password() -> None:
    """Return when this session may use the dashboard; otherwise show why and st.stop()."""
    address = st.get_option("server.address")
    if is_loopback(address):
        return
    where = address or "every network interface"
    password = configured_password()
    if not password:
        st.error(
            f"The dashboard is served on {where}, where anyone who can reach it could read and "
            f"change memories, and no password is set. Set the environment variable "
            f"{PASSWORD_ENV} or `{PASSWORD_SECRET}` in .streamlit/secrets.toml, or serve it on "
            f"127.0.0.1 (the default in .streamlit/config.toml).",
            icon="🔒",
        )
        st.stop()
    expected = _fingerprint(password)
    signed_in = st.session_state.get(SESSION_KEY)
    if isinstance(signed_in, str) and hmac.compare_digest(signed_in, expected):
        return
    st.title("ALMA dashboard")
    st.caption(f"Served on {where}: sign in to continue.")
    with st.form(FORM_KEY):
        entered = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        if hmac.compare_digest(entered.encode("utf-8"), password.encode("utf-8")):
            st.session_state[SESSION_KEY] = expected
            st.rerun()
        st.error("Wrong password.", icon="🔒")
    st.stop()
