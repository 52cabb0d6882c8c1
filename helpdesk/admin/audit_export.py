"""The audit trail as a CSV file: the rows of the page's filters, safe to open in a spreadsheet (no Flask)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from helpdesk.admin.audit_rows import AuditRow

#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADERS = (
    "When (UTC)",
    "State",
    "Who",
    "Who (sign-in e-mail)",
    "What happened",
    "Action",
    "Outcome",
    "Detail",
    "Address",
)


def safe_cell(value: object) -> str:
    """Return the value as text; one a spreadsheet would run as a formula is prefixed with a quote."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def audit_csv(rows: Sequence[AuditRow]) -> str:
    """Return the rows as CSV text (a header line, then one line per event, newest first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        event = row.event
        writer.writerow(
            [
                safe_cell(cell)
                for cell in (
                    event.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    event.state_code or "national",
                    row.actor.label,
                    event.actor_email or "",
                    row.sentence,
                    row.label,
                    row.outcome,
                    row.detail,
                    event.ip or "",
                )
            ]
        )
    return out.getvalue()
