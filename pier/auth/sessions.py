"""Playground sessions: a token of kind "session" that ends after `session_seconds`."""

from __future__ import annotations

import re
from datetime import timedelta

from pier.settings import Settings
from pier.store import Store

_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_name(user_agent: str) -> str:
    """ "Firefox on Linux", from a User-Agent header (what the token list shows a session as)."""
    browser = next((name for key, name in _BROWSERS if key in user_agent), "a browser")
    system = next((name for key, name in _SYSTEMS if key in user_agent), "")
    if re.search(r"Headless", user_agent):
        browser = "Headless " + browser
    return f"{browser} on {system}" if system else browser


async def start_session(store: Store, settings: Settings, account_id: str, user_agent: str) -> str:
    """A new playground session for the account; its secret."""
    lifetime = timedelta(seconds=settings.session_seconds)
    return await store.create_session(account_id, browser_name(user_agent), lifetime)
