"""The reports as named tables: what the pages show beside each chart, the CSV downloads and the command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from helpdesk.admin.audit_export import safe_cell
from helpdesk.insights.content import ContentReport
from helpdesk.insights.desk import DeskReport
from helpdesk.insights.gaps import FailedQuery


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table: its name (for the CSV link), headers and rows."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[object, ...]]


def _failed(name: str, title: str, items: list[FailedQuery]) -> Table:
    return Table(
        name,
        title,
        ("Query", "Searches", "People", "Last seen (UTC)", "Most results shown", "Variants"),
        [
            (
                g.query,
                g.searches,
                g.people,
                f"{g.last_seen:%Y-%m-%d %H:%M}",
                g.shown,
                ", ".join(v for v in g.variants if v != g.query),
            )
            for g in items
        ],
    )


def _title(key: str, articles: Mapping[str, str]) -> str:
    slug, _, question = key.partition("#")
    title = articles.get(slug, slug)
    return f"{title} \u203a {question.replace('-', ' ')}" if question else title


def content_tables(report: ContentReport, articles: Mapping[str, str]) -> list[Table]:
    """Return the content-gap report's tables."""
    return [
        _failed("zero_result", "Searches with no result", report.zero_result),
        _failed("no_click", "Searches whose results nobody opened", report.no_click),
        Table(
            "not_helpful",
            "Articles with the most \u201cNo\u201d votes",
            ("Article", "No votes", "Newest reasons"),
            [(articles.get(i.article, i.article), i.no_votes, " | ".join(i.reasons)) for i in report.not_helpful],
        ),
        Table(
            "most_opened",
            "Answers opened from search most often",
            ("Answer", "Opened"),
            [(_title(k, articles), n) for k, n in report.most_opened],
        ),
        Table(
            "filed_after",
            "Answers after which people still filed a request",
            ("Answer", "Requests filed"),
            [(_title(k, articles), n) for k, n in report.filed_after],
        ),
        Table(
            "deflections_by_category",
            "Deflections per category",
            ("Category", "Deflections"),
            list(report.deflections_by_category),
        ),
        Table(
            "deflections_by_answer",
            "\u201cThis answered my question\u201d per answer",
            ("Answer", "Deflections"),
            [(_title(k, articles), n) for k, n in report.deflections_by_answer],
        ),
        Table(
            "never_opened",
            "Articles never opened from search",
            ("Article",),
            [(articles.get(slug, slug),) for slug in report.never_opened],
        ),
    ]


def _pct(met: int, due: int) -> str:
    return f"{100 * met / due:.1f}%" if due else "-"


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def desk_tables(report: DeskReport, articles: Mapping[str, str] | None = None) -> list[Table]:
    """Return the desk dashboard's tables."""
    total = report.opened or 1
    sla_rows: list[tuple[object, ...]] = []
    for tier, milestones in report.sla.items():
        for milestone, counts in milestones.items():
            median, p90 = report.times[tier][milestone]
            sla_rows.append(
                (
                    tier,
                    milestone.replace("_", " "),
                    counts["met"],
                    counts["due"],
                    _pct(counts["met"], counts["due"]),
                    _hours(median),
                    _hours(p90),
                )
            )
    return [
        Table(
            "summary",
            "Summary",
            ("Figure", "Value"),
            [
                ("Requests opened", report.opened),
                ("Requests resolved", report.resolved),
                ("Deflections", report.deflections),
                ("Deflection rate", f"{100 * report.deflection_rate:.1f}%"),
                ("Escalated", report.escalated["any"]),
                ("Reopened", report.reopened),
            ],
        ),
        Table(
            "per_day",
            "Requests opened and resolved per day",
            ("Day", "Opened", "Resolved"),
            [(d.isoformat(), o, r) for d, o, r in report.per_day],
        ),
        Table(
            "per_week",
            "Requests opened and resolved per week",
            ("Week of", "Opened", "Resolved"),
            [(d.isoformat(), o, r) for d, o, r in report.per_week()],
        ),
        Table(
            "by_category",
            "Requests and deflections per category",
            ("Category", "Requests", "Deflections", "Deflection rate"),
            [(c, o, d, f"{rate / 10:.1f}%") for c, o, d, rate in report.by_category],
        ),
        Table("by_tier", "Requests per tier", ("Tier", "Requests"), list(report.by_tier)),
        Table("by_state", "Requests per state", ("State", "Requests"), list(report.by_state)),
        Table("backlog", "Open requests by age", ("Age", "Requests"), list(report.backlog)),
        Table(
            "sla",
            "SLA attainment per tier (business hours)",
            ("Tier", "Milestone", "Met", "Due", "% met", "Median h", "90th percentile h"),
            sla_rows,
        ),
        Table(
            "escalation",
            "Escalation",
            ("Escalated", "Requests", "Share of opened"),
            [
                (
                    "to the compact office (now there)",
                    report.escalated["to_compact_office"],
                    _pct(report.escalated["to_compact_office"], total),
                ),
                (
                    "to the national office",
                    report.escalated["to_national"],
                    _pct(report.escalated["to_national"], total),
                ),
                ("any escalation", report.escalated["any"], _pct(report.escalated["any"], total)),
                ("reopened (of resolved)", report.reopened, _pct(report.reopened, report.resolved)),
            ],
        ),
        Table(
            "incidents",
            "Incidents and their size",
            ("Incident", "Scope", "Category", "Reports"),
            [(f"#{i}", s, c, n) for i, s, c, n in report.incidents],
        ),
        Table(
            "most_read",
            "Helpfulness of the most read articles",
            ("Article", "Opened from search", "Found it helpful", "Votes", "% helpful"),
            [
                ((articles or {}).get(slug, slug), n, yes, total, _pct(yes, total))
                for slug, n, yes, total in report.most_read
            ],
        ),
        Table("top_searches", "Top searches", ("Query", "Searches", "People"), list(report.top_searches)),
    ]


def table_csv(table: Table) -> str:
    """Return one table as CSV (formula-safe)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([safe_cell(cell) for cell in row] for row in table.rows)
    return out.getvalue()


def tables_csv(tables: Sequence[Table]) -> str:
    """Return every table as CSV, each after a line naming it."""
    return "\r\n".join(f"# {t.name}: {t.title}\r\n{table_csv(t)}" for t in tables)


def tables_text(tables: Sequence[Table]) -> str:
    """Return every table as aligned text for the console."""
    parts = []
    for table in tables:
        cells = [tuple(str(c) for c in table.headers), *[tuple(str(c) for c in row) for row in table.rows]]
        widths = [min(60, max(len(r[i]) for r in cells)) for i in range(len(table.headers))]
        lines = [
            f"{table.title}",
            *("  " + "  ".join(c[:60].ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells),
        ]
        parts.append("\n".join(lines) + ("\n  (none)" if not table.rows else ""))
    return "\n\n".join(parts) + "\n"
