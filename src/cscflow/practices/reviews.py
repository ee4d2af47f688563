"""Learning without harm: breaches reviewed before anyone is hurt, stored in the workspace.

In the spirit of the NHS Just Culture guide (NHS England, 2018), a breach is a prompt to learn how
the system let it happen, not to blame: each breach (rule, child, clock start) can be marked reviewed
with a *cause* category, a note and an action. Reviews are kept in the workspace folder
(``practice_reviews.csv``: pseudonymised ids only, so the web app, which opens the database read-only,
can store them too); the latest review of a clock wins. Notes are free text and never leave the
machine: only counts of reviewed breaches and of causes by month are exported, through disclosure
control (``practices-reviews``).

>>> sorted(CAUSES)[:3]
['capacity', 'family_engagement', 'other']
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from cscflow.practices.rules import RulesError

FILE = "practice_reviews.csv"
#: cause categories (system factors first; a review names the one that mattered most)
CAUSES: dict[str, str] = {
    "capacity": "caseloads, vacancies or sickness left no one free in time",
    "scheduling": "meeting or partner availability (conference chairs, police, health)",
    "partner_agency": "information or attendance from a partner agency came late",
    "family_engagement": "the family could not be seen or did not engage in time",
    "recording": "done on time but recorded late or wrongly (a data fix, not a practice one)",
    "process": "the process or system made the timescale hard to meet",
    "other": "another cause, said in the note",
}
COLUMNS = ["rule", "child_id", "start", "cause", "note", "action", "reviewed_at"]


def load(ws: Any) -> pd.DataFrame:
    """Stored reviews, the latest per clock (rule, child_id, start)."""
    path = Path(ws.path) / FILE
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    r = pd.read_csv(path, dtype=str, keep_default_na=False)
    return r.sort_values("reviewed_at").drop_duplicates(["rule", "child_id", "start"], keep="last").reset_index(
        drop=True)


def record(ws: Any, rule: str, child_id: str, start: Any, cause: str, note: str = "", action: str = "") -> None:
    """Mark the breach of ``rule`` for ``child_id`` whose clock started on ``start`` as reviewed."""
    if cause not in CAUSES:
        raise RulesError(f"unknown cause {cause!r}", hint=f"use one of {', '.join(CAUSES)}")
    for name, text in (("note", note), ("action", action)):
        if len(text) > 2000:
            raise RulesError(f"the {name} has {len(text)} characters", hint="keep it under 2,000")
    row = pd.DataFrame([{"rule": rule, "child_id": str(child_id), "start": pd.Timestamp(start).date().isoformat(),
                         "cause": cause, "note": note, "action": action,
                         "reviewed_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")}])
    path = Path(ws.path) / FILE
    row.to_csv(path, mode="a", header=not path.exists(), index=False, lineterminator="\n")


def with_reviews(clocks: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """``clocks`` with ``reviewed`` (True where a breach was reviewed) and its ``cause``."""
    r = reviews[["rule", "child_id", "start", "cause"]].copy()
    r["start"] = pd.to_datetime(r["start"])
    out = clocks.merge(r, on=["rule", "child_id", "start"], how="left")
    out["reviewed"] = out["cause"].notna() & out["status"].isin(["breached", "overdue"])
    out.attrs.update(clocks.attrs)
    return out


def causes_by_month(reviewed: pd.DataFrame) -> pd.DataFrame:
    """Per rule and month of the due date: breaches (late), reviewed, and the reviewed by cause."""
    late = reviewed[reviewed["status"].isin(["breached", "overdue"])].copy()
    late["month"] = pd.to_datetime(late["due"]).dt.strftime("%Y-%m")
    g = late.groupby(["rule", "month"])
    out = pd.DataFrame({"late": g.size(), "reviewed": g["reviewed"].sum()})
    for cause in CAUSES:
        out[cause] = g["cause"].apply(lambda s, c=cause: int((s == c).sum()))
    return out.reset_index().astype({c: "int64" for c in ["late", "reviewed", *CAUSES]})


__all__ = ["CAUSES", "COLUMNS", "FILE", "causes_by_month", "load", "record", "with_reviews"]
