"""The data-quality report: per source file, and children with impossible sequences.

Per source (kept by the loader in ``_sources``): rows read, loaded, quarantined and
repaired, and per problem the count and examples (file, row, column, value, why, how
to fix). Across sources, computed on the canonical tables each time:

- ``s47 before referral``: a section 47 enquiry with no referral of the child on or before its date;
- ``end before start``: a stay whose end is earlier than its start;
- ``date of birth after referral``: a referral dated before the child's birth (fine only for an
  unborn child referred before birth);
- ``overlapping care episodes``: a looked-after episode starting before the previous one ended.

Examples name pseudonymised children and stay dates only, never dates of birth.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from cscflow.sources.load import EXAMPLES, ensure_internal

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

SOURCE_FIELDS = ("file", "format", "rows_read", "rows_loaded", "rows_quarantined", "rows_repaired", "problems")


def report(ws: WorkspaceLike) -> dict[str, Any]:
    """The whole report as a JSON-ready dict (``sources``, ``sequences``, ``totals``)."""
    if not ws.read_only:
        ensure_internal(ws)
    sources: list[dict[str, Any]] = []
    if ws.has_table("_sources"):
        rows = ws.table("_sources").order_by("load_seq").execute()
        for r in rows.itertuples():
            item = json.loads(r.report)
            out = {k: item.get(k) for k in SOURCE_FIELDS}
            out["stays_written"] = item.get("stays_written", 0)
            out["duplicate_stays"] = item.get("duplicate_stays", 0)
            out["loaded_at"] = str(r.loaded_at)
            sources.append(out)
    sequences = sequence_checks(ws)
    totals = {k: sum(int(s[k] or 0) for s in sources) for k in SOURCE_FIELDS[2:6]}
    return {"workspace": str(ws.path), "la": ws.la, "sources": sources, "sequences": sequences, "totals": totals}


def _examples(df: pd.DataFrame, why: str, fix: str) -> list[dict[str, Any]]:
    out = []
    for r in df.head(EXAMPLES).to_dict("records"):
        ex = {k: (str(v)[:19] if isinstance(v, pd.Timestamp) else v) for k, v in r.items() if not pd.isna(v)}
        ex.update(why=why, how_to_fix=fix)
        out.append(ex)
    return out


def _check(name: str, expr: ibis.Table, why: str, fix: str) -> dict[str, Any] | None:
    n = int(expr.child_id.nunique().execute())
    if not n:
        return None
    rows = expr.order_by(["child_id"]).limit(EXAMPLES).execute()
    return {"problem": name, "count": n, "examples": _examples(rows, why, fix)}


def sequence_checks(ws: WorkspaceLike) -> list[dict[str, Any]]:
    """Children with impossible sequences (count of children, examples) over the canonical tables."""
    ep = ws.table("episodes")
    out: list[dict[str, Any] | None] = []
    # S47 with no referral of the same child on or before it.
    refs = ep.filter(ep.stage == "referral").select(r_child=ep.child_id, r_day=ep.start.date())
    s47 = ep.filter(ep.stage == "s47")
    s47 = s47.mutate(day=s47.start.date())
    ok = s47.semi_join(refs, [s47.child_id == refs.r_child, refs.r_day <= s47.day])
    bad = s47.anti_join(ok, "episode_id").select("child_id", "source", "source_row", "start")
    out.append(_check("s47 before referral", bad, "section 47 enquiry with no referral on or before it",
                      "check the referral date, or load the file holding the referral"))
    # End before start.
    bad = ep.filter(ep.end.notnull() & (ep.end < ep.start)).select("child_id", "stage", "source", "source_row",
                                                                    "start", "end")
    out.append(_check("end before start", bad, "the stay ends before it starts",
                      "correct the start or end date in the source system"))
    # Date of birth after a referral.
    idf = ws.table("identifiers")
    idf = idf.filter(idf.child_id.notnull() & idf.birth_date.notnull())
    dob = idf.group_by("child_id").aggregate(dob=idf.birth_date.min())
    r = ep.filter(ep.stage == "referral")
    r = r.join(dob, r.child_id == dob.child_id).filter(lambda t: t.start.date() < t.dob)
    bad = r.select("child_id", "source", "source_row", "start")
    out.append(_check("date of birth after referral", bad, "referred before the recorded date of birth",
                      "fine for an unborn child referred before birth; otherwise correct the date of birth"))
    # Overlapping looked-after episodes.
    la = ep.filter(ep.stage == "looked_after")
    w = ibis.window(group_by=la.child_id, order_by=[la.start, la.end])
    la = la.mutate(prev_end=la.end.lag().over(w), prev_n=ibis.row_number().over(w))
    bad = la.filter((la.prev_n > 0) & (la.prev_end.isnull() | (la.start < la.prev_end)))
    bad = bad.select("child_id", "source", "source_row", "start", "prev_end")
    out.append(_check("overlapping care episodes", bad, "a care episode starts before the previous one ended",
                      "close the earlier episode (DEC) on or before the next one's start (DECOM)"))
    return [o for o in out if o]
