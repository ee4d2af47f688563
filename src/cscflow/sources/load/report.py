"""Load stage 7, report: what the loader reports per source file, the :class:`SourceReport` and its problems,
written with the quarantined rows and repairs (:func:`write_report`).

A problem is ``{"problem", "count", "examples"}``; examples name the file, row, column, value,
why and how to fix (pseudonymised children only, never dates of birth).

>>> import pandas as pd
>>> from cscflow.sources.base import ReadResult
>>> r = ReadResult(source="a.csv", format="events", rows_read=2, rows_loaded=1)
>>> r.quarantine = pd.DataFrame({"source_row": [2], "column": ["start"], "value": ["x"],
...                              "problem": ["start is not a date"], "hint": ["write dates as yyyy-mm-dd"]})
>>> [(p["problem"], p["count"]) for p in quarantine_problems(r)]
[('start is not a date', 1)]
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from cscflow.sources.base import ReadResult
from cscflow.sources.load.internal import SOURCES_SCHEMA, write_frames
from cscflow.sources.values import is_blank

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

#: How many examples each problem keeps in the report.
EXAMPLES = 5


@dataclass
class SourceReport:
    """What happened to one source file (an item of the quality report's ``sources`` list)."""

    file: str
    format: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_repaired: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    stays_written: int = 0
    duplicate_stays: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def accounted(self) -> bool:
        """rows_read == rows_loaded + rows_quarantined."""
        return self.rows_read == self.rows_loaded + self.rows_quarantined


def problem(name: str, count: int, examples: list[dict[str, Any]]) -> dict[str, Any]:
    """One problem entry (examples capped at :data:`EXAMPLES`)."""
    return {"problem": name, "count": int(count), "examples": examples[:EXAMPLES]}


def quarantine_frame(result: ReadResult) -> pd.DataFrame | None:
    """The source's quarantined rows as ``quarantine`` table rows."""
    q = result.quarantine
    if q is None or q.empty:
        return None
    return pd.DataFrame({
        "source": result.source,
        "source_row": pd.to_numeric(q["source_row"], errors="coerce").astype("Int64"),
        "column": [None if is_blank(v) else str(v) for v in q["column"]],
        "value": [None if is_blank(v) else str(v)[:200] for v in q["value"]],
        "problem": q["problem"].astype(str),
        "hint": [None if is_blank(v) else str(v) for v in q["hint"]],
    })


def repairs_frame(result: ReadResult) -> pd.DataFrame | None:
    """The source's documented repairs as ``_repairs`` rows."""
    r = result.repairs
    if r is None or r.empty:
        return None
    return pd.DataFrame({
        "source": result.source,
        "source_row": pd.to_numeric(r["source_row"], errors="coerce").astype("Int64"),
        "repair": r["repair"].astype(str),
        "detail": [None if is_blank(v) else str(v) for v in r["detail"]],
    })


def quarantine_problems(result: ReadResult) -> list[dict[str, Any]]:
    """One problem per kind of quarantined row, most frequent first."""
    q = result.quarantine
    if q is None or q.empty:
        return []
    out = []
    for name, grp in q.groupby("problem", sort=False):
        ex = [
            {"file": result.source, "row": None if pd.isna(r.source_row) else int(r.source_row),
             "column": r.column, "value": None if is_blank(r.value) else str(r.value)[:80],
             "why": name, "how_to_fix": r.hint}
            for r in grp.head(EXAMPLES).itertuples()
        ]
        out.append(problem(str(name), grp["source_row"].nunique(), ex))
    return sorted(out, key=lambda p: -p["count"])


def repair_problems(result: ReadResult) -> list[dict[str, Any]]:
    """One problem per kind of repair."""
    r = result.repairs
    if r is None or r.empty:
        return []
    out = []
    for repair, grp in r.groupby("repair", sort=False):
        ex = [
            {"file": result.source, "row": None if pd.isna(x.source_row) else int(x.source_row),
             "why": f"repaired: {repair}", "detail": x.detail, "how_to_fix": "check the source record"}
            for x in grp.head(EXAMPLES).itertuples()
        ]
        out.append(problem(f"repaired: {repair}", len(grp), ex))
    return out


def unaccounted_problem(report: SourceReport) -> dict[str, Any] | None:
    """The problem to report when rows_read != rows_loaded + rows_quarantined (a reader bug)."""
    if report.accounted:
        return None
    gap = report.rows_read - report.rows_loaded - report.rows_quarantined
    return problem("rows not accounted for", abs(gap), [{
        "file": report.file, "why": f"read {report.rows_read}, loaded {report.rows_loaded}, "
        f"quarantined {report.rows_quarantined}", "how_to_fix": "report this as a cscflow bug"}])


def write_report(ws: WorkspaceLike, results: list[ReadResult], seq0: int,
                 stats: dict[str, tuple[int, int, list[dict[str, Any]]]],
                 found: dict[str, list[dict[str, Any]]]) -> list[SourceReport]:
    """Write the quarantined rows, the repairs and one ``_sources`` row per source; the reports, in order.

    ``stats``: (stays written, duplicates dropped, examples) per source; ``found``: conflicts per source.
    """
    write_frames(ws, "quarantine", [quarantine_frame(r) for r in results])
    write_frames(ws, "_repairs", [repairs_frame(r) for r in results])
    reports, rows = [], []
    for k, result in enumerate(results):
        report = SourceReport(
            file=result.source, format=result.format, rows_read=int(result.rows_read),
            rows_loaded=int(result.rows_loaded), rows_quarantined=result.rows_quarantined,
            rows_repaired=result.rows_repaired,
        )
        written, dups, examples = stats.get(result.source, (0, 0, []))
        report.stays_written, report.duplicate_stays = written, dups
        problems = quarantine_problems(result) + repair_problems(result)
        if dups:
            problems.append(problem("stay already loaded from another source", dups, examples))
        problems += found.get(result.source, [])
        problems += [problem(w, 1, []) for w in result.warnings]
        gap = unaccounted_problem(report)
        if gap:
            problems.append(gap)
        report.problems = problems
        row = {k2: v for k2, v in report.to_dict().items() if k2 in SOURCES_SCHEMA.names}
        row.update(source=result.source, load_seq=seq0 + k, loaded_at=dt.datetime.now().replace(microsecond=0),
                   report=json.dumps(report.to_dict(), default=str))
        rows.append({c: row[c] for c in SOURCES_SCHEMA.names})
        reports.append(report)
    ws.write("_sources", pd.DataFrame(rows))
    return reports
