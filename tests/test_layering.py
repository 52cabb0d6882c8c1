"""Layering: the domain imports no Flask, and the triage policy no database, checked in a fresh interpreter."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import helpdesk

PACKAGE_DIR = Path(helpdesk.__file__).resolve().parent
#: The Flask side of tickets: its pages and its commands.
WEB = ("helpdesk.tickets.web", "helpdesk.tickets.cli")
#: Domain modules outside tickets and triage: models and services, meant to run without an app.
DOMAIN = (
    "helpdesk",
    "helpdesk.orm",
    "helpdesk.models",
    "helpdesk.config",
    "helpdesk.text",
    "helpdesk.pagination",
    "helpdesk.accounts",
    "helpdesk.accounts.services",
    "helpdesk.accounts.auth",
    "helpdesk.accounts.models",
    "helpdesk.accounts.api_tokens",
    "helpdesk.accounts.tokens",
    "helpdesk.accounts.agencies",
    "helpdesk.accounts.permissions",
    "helpdesk.accounts.workload",
    "helpdesk.accounts.mfa",
    "helpdesk.audit.services",
    "helpdesk.audit.models",
    "helpdesk.audit.wording",
    "helpdesk.kb",
    "helpdesk.kb.services",
    "helpdesk.kb.editing",
    "helpdesk.kb.comments",
    "helpdesk.kb.library",
    "helpdesk.search",
    "helpdesk.search.services",
    "helpdesk.search.engine",
    "helpdesk.search.learning",
    "helpdesk.mail",
    "helpdesk.mail.services",
    "helpdesk.mail.delivery",
    "helpdesk.insights",
    "helpdesk.insights.services",
    "helpdesk.insights.gaps",
    "helpdesk.insights.desk",
)
FLASK = ("flask", "flask_login", "flask_wtf", "flask_mail", "flask_limiter")


def modules_of(package: str) -> list[str]:
    """Return `package` and every module below it, found on disk (a new module is checked without listing it)."""
    path = PACKAGE_DIR.joinpath(*package.split(".")[1:])
    found = [info.name for info in pkgutil.walk_packages([str(path)], f"{package}.")]
    return [package, *found]


def loaded_after_import(modules: list[str]) -> list[str]:
    """Import `modules` in a fresh interpreter and return the names of every module it then holds."""
    code = (
        "import importlib, json, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *modules], capture_output=True, text=True, check=True, cwd=PACKAGE_DIR.parent
    )
    return list(json.loads(done.stdout))


def test_the_walk_finds_the_domain_modules() -> None:
    tickets = set(modules_of("helpdesk.tickets"))
    assert {"helpdesk.tickets.submit", "helpdesk.tickets.escalation.sweep", "helpdesk.tickets.web.queue"} <= tickets
    assert {"helpdesk.triage.sla", "helpdesk.triage.loader"} <= set(modules_of("helpdesk.triage"))


@pytest.mark.parametrize("package", ["helpdesk.triage", "helpdesk.tickets"])
def test_domain_packages_import_no_flask(package: str) -> None:
    domain = [name for name in modules_of(package) if not name.startswith(WEB)]
    loaded = loaded_after_import(domain)
    assert set(domain) <= set(loaded)
    assert [name for name in loaded if name.split(".")[0] in FLASK] == []


def test_models_and_services_import_no_flask() -> None:
    loaded = loaded_after_import(list(DOMAIN))
    assert [name for name in loaded if name.split(".")[0] in FLASK] == []


def test_the_triage_policy_needs_no_database() -> None:
    loaded = loaded_after_import(modules_of("helpdesk.triage"))
    assert [name for name in loaded if name.split(".")[0] == "sqlalchemy" or name == "helpdesk.orm"] == []


def test_the_web_side_does_load_flask() -> None:
    # The check above can fail: the same walk over the pages finds Flask.
    loaded = loaded_after_import(["helpdesk.tickets.web.queue"])
    assert "flask" in loaded and "flask_login" in loaded
