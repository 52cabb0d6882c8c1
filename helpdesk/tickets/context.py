"""What every ticket service is given: the triage policy and the base URL of links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpdesk.config import PROJECT_ROOT
from helpdesk.triage.policy import TriagePolicy, load_policy

#: Where the policy files live unless the config says otherwise (TRIAGE_POLICY_DIR).
DEFAULT_POLICY_DIR = PROJECT_ROOT / "tickets"
#: The key of the app's Triage in `app.extensions`.
EXTENSION_KEY = "helpdesk.triage"


@dataclass(frozen=True, slots=True)
class Triage:
    """The triage policy and the base URL that links in mails are built from (never the request's Host)."""

    policy: TriagePolicy
    base_url: str
    #: Where the policy was read from (the routing preview reads the other files from there to try a routing.yml).
    directory: Path = DEFAULT_POLICY_DIR

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Triage:
        """Load the policy from TRIAGE_POLICY_DIR (default `tickets/`); a bad policy stops the app with a message."""
        directory = Path(config.get("TRIAGE_POLICY_DIR") or DEFAULT_POLICY_DIR)
        return cls(load_policy(directory), str(config["BASE_URL"]).rstrip("/"), directory)

    def link(self, path: str) -> str:
        """Return an absolute link to `path`."""
        return f"{self.base_url}{path}"

    def ticket_link(self, ticket_id: int) -> str:
        """Return the absolute link of a request's page."""
        return self.link(f"/requests/{ticket_id}")
