"""Learning without harm: breaches reviewed before anyone is hurt, stored in the workspace.

In the spirit of the NHS Just Culture guide (NHS England, 2018), a breach is a prompt to learn how
the system let it happen, not to blame: each breach (rule, child, clock start) can be marked reviewed
with a *cause* category, a note and an action. Reviews are kept in the workspace folder
(``practice_reviews.csv``: pseudonymised ids only, so the web app, which opens the database read-only,
can store them too); the latest review of a clock wins. A breach is marked reviewed by :func:`mark`, which
both ``cscflow practices --review`` and the Timescales page of the web app call. Notes are free text and never
leave the machine: only counts of reviewed breaches and of causes by month are exported, through disclosure
control (``practices-reviews``); the page's list of breaches (:func:`breaches`) shows a note only to a client
on the machine that holds the workspace.

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
#: the statuses of a breach: stopped late, or still running past its due date
LATE = ("breached", "overdue")


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


def mark(ws: Any, rule: str, child_id: str, start: Any, cause: str, note: str = "", action: str = "") -> dict[str, str]:
    """Mark the breach of ``rule`` for ``child_id`` whose clock started on ``start`` reviewed, after checking that
    the clock exists and is late (breached or overdue at the last date of the data), and :func:`record` it.

    The one way a review is stored: ``cscflow practices --review`` and the web app's Timescales page call it.
    Returns what was stored (without the note and action)."""
    from cscflow.practices.clocks import evaluate

    if cause not in CAUSES:
        raise RulesError(f"unknown cause {cause!r}", hint=f"use one of {', '.join(CAUSES)}")
    try:
        day = pd.Timestamp(start).normalize()
    except (ValueError, TypeError):
        raise RulesError(f"the clock's start {str(start)[:40]!r} is not a date", hint="give it as YYYY-MM-DD") from None
    c = evaluate(ws, [rule])
    hit = c[(c["child_id"].astype(str) == str(child_id)) & (c["start"] == day) & c["status"].isin(LATE)]
    if hit.empty:
        raise RulesError(f"no breached or overdue {rule} clock of child {str(child_id)[:40]} starting {day.date()}",
                         hint="copy rule, child_id and start from `cscflow practices WS --out clocks.csv` or from "
                              "the Timescales page's list of breaches")
    record(ws, rule, str(child_id), day, cause, note, action)
    return {"rule": rule, "child_id": str(child_id), "start": day.date().isoformat(), "cause": cause}


def breaches(clocks: pd.DataFrame, reviews: pd.DataFrame, notes: bool = False) -> pd.DataFrame:
    """The late clocks (breached or overdue) of ``clocks``, latest due date first, with their review: ``cause``
    and ``reviewed_at`` (empty when not reviewed), and with ``notes`` also its ``note`` and ``action`` (for a user
    on the machine that holds the workspace only: they are free text)."""
    keep = ["cause", "reviewed_at", *(["note", "action"] if notes else [])]
    r = reviews[["rule", "child_id", "start", *keep]].copy()
    r["start"] = pd.to_datetime(r["start"])
    late = clocks[clocks["status"].isin(LATE)]
    out = late.merge(r, on=["rule", "child_id", "start"], how="left")
    for col in keep:
        out[col] = out[col].fillna("")
    out["reviewed_at"] = out["reviewed_at"].str.slice(0, 10)  # the day is enough on a page
    cols = ["rule", "child_id", "start", "due", "stop", "working_days", "status", "team", *keep]
    return out.sort_values(["due", "child_id"], ascending=[False, True])[cols].reset_index(drop=True)


def with_reviews(clocks: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """``clocks`` with ``reviewed`` (True where a breach was reviewed) and its ``cause``."""
    r = reviews[["rule", "child_id", "start", "cause"]].copy()
    r["start"] = pd.to_datetime(r["start"])
    out = clocks.merge(r, on=["rule", "child_id", "start"], how="left")
    out["reviewed"] = out["cause"].notna() & out["status"].isin(LATE)
    out.attrs.update(clocks.attrs)
    return out


def causes_by_month(reviewed: pd.DataFrame) -> pd.DataFrame:
    """Per rule and month of the due date: breaches (late), reviewed, unreviewed (late - reviewed), and the
    reviewed by cause."""
    late = reviewed[reviewed["status"].isin(LATE)].copy()
    late["month"] = pd.to_datetime(late["due"]).dt.strftime("%Y-%m")
    g = late.groupby(["rule", "month"])
    out = pd.DataFrame({"late": g.size(), "reviewed": g["reviewed"].sum()})
    out["unreviewed"] = out["late"] - out["reviewed"]
    for cause in CAUSES:
        out[cause] = g["cause"].apply(lambda s, c=cause: int((s == c).sum()))
    return out.reset_index().astype({c: "int64" for c in ["late", "reviewed", "unreviewed", *CAUSES]})


__all__ = ["CAUSES", "COLUMNS", "FILE", "LATE", "breaches", "causes_by_month", "load", "mark", "record",
           "with_reviews"]
