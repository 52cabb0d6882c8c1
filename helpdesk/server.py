"""Run the app under a production WSGI server: gunicorn, or waitress where gunicorn cannot run."""

from __future__ import annotations

import os
from typing import Any

import click


def _gunicorn_available() -> bool:
    if os.name == "nt":  # gunicorn needs fork(): not on Windows
        return False
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


def run_server(host: str, port: int, workers: int, base_url: str) -> None:
    """Serve until interrupted; each worker builds its own app (no state shared across processes)."""
    click.echo(f"Helpdesk is running at http://{host}:{port}/  (links in e-mails use {base_url})")
    click.echo("Press Ctrl+C to stop.")
    if _gunicorn_available():
        _run_gunicorn(host, port, workers)
    else:
        _run_waitress(host, port, workers)


def _run_gunicorn(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class HelpdeskApplication(BaseApplication):  # type: ignore[misc]
        """Gunicorn application that calls the app factory in every worker."""

        def __init__(self, options: dict[str, Any]) -> None:
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from helpdesk import create_app

            return create_app()

    HelpdeskApplication({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
    }).run()


def _run_waitress(host: str, port: int, workers: int) -> None:
    from waitress import serve

    from helpdesk import create_app

    serve(create_app(), host=host, port=port, threads=max(4, workers * 4))
