"""The web console served at /console (Italian by default, English on request; Bootstrap Italia, server-rendered)."""
from __future__ import annotations

PREFIX = "/console"


def mount(app) -> None:
    """Serve the console under ``/console`` of the API app (which holds the service and the keys)."""
    from .app import create_console
    app.mount(PREFIX, create_console(app), name="console")
