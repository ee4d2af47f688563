"""Clerical review decisions: stored in the workspace, applied to every later linkage run.

Decisions are kept in the workspace folder (``link_decisions.csv``: pseudonymised ids only), so that
the web app, which opens the database read-only, can store them too. A decision names a legal row (``proceedings_id``), a candidate child (pseudonymised ``child_id``)
and ``accept`` or ``reject`` (``skip`` leaves the pair for later and stores nothing). On each run
:func:`apply` makes an accepted pair ``linked`` (method ``clerical``) whatever its probability, and
removes a rejected pair: the row falls back to its best child not rejected, with that child's
probability and status. Decisions made elsewhere come in with :func:`import_decisions` (CSV with
``proceedings_id, child_id, decision``; ``source, source_row`` may stand for the proceedings id).

The latest run's rows (no identifiers) are kept in ``_link_results`` and its candidate pairs in
``_link_pairs`` so that the review page can show them without linking again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from cscflow.linkage.model import LinkageError
from cscflow.workspace import WorkspaceLike

FILE = "link_decisions.csv"
RESULTS = "_link_results"
PAIRS = "_link_pairs"
DECISIONS = ("accept", "reject", "skip")


def load(ws: WorkspaceLike) -> pd.DataFrame:
    """Stored decisions: proceedings_id, child_id, decision, decided_at (the latest per pair)."""
    path = Path(ws.path) / FILE
    if not path.exists():
        return pd.DataFrame(columns=["proceedings_id", "child_id", "decision", "decided_at"])
    d = pd.read_csv(path, dtype=str)
    return d.sort_values("decided_at").drop_duplicates(["proceedings_id", "child_id"], keep="last")


def record(ws: WorkspaceLike, decisions: pd.DataFrame) -> int:
    """Store decisions (``skip`` rows are dropped); returns how many were stored."""
    d = decisions[["proceedings_id", "child_id", "decision"]].astype(str)
    bad = sorted(set(d["decision"]) - set(DECISIONS))
    if bad:
        raise LinkageError(f"unknown decision {bad[0]!r}", hint=f"use one of {', '.join(DECISIONS)}")
    d = d[d["decision"] != "skip"].assign(decided_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"))
    if d.empty:
        return 0
    path = Path(ws.path) / FILE
    d.to_csv(path, mode="a", header=not path.exists(), index=False, lineterminator="\n")
    return len(d)


def import_decisions(ws: WorkspaceLike, path: Path) -> int:
    """Store the decisions of a CSV (proceedings_id or source + source_row, child_id, decision)."""
    path = Path(path)
    if not path.exists():
        raise LinkageError(f"{path}: no such file", hint="give the CSV of decisions exported from the review")
    d = pd.read_csv(path, dtype=str, skipinitialspace=True)
    d.columns = [c.strip().lower() for c in d.columns]
    if "proceedings_id" not in d and {"source", "source_row"} <= set(d.columns):
        p = ws.execute(ws.table("proceedings").select("proceedings_id", "source", "source_row"))
        p["source_row"] = p["source_row"].astype(str)
        d = d.merge(p, on=["source", "source_row"], how="left")
    missing = [c for c in ("proceedings_id", "child_id", "decision") if c not in d]
    if missing:
        raise LinkageError(f"{path.name} has no column {missing[0]!r}",
                           hint="the columns are proceedings_id (or source, source_row), child_id, decision")
    d["decision"] = d["decision"].str.strip().str.lower()
    return record(ws, d.dropna(subset=["proceedings_id", "child_id"]))


def apply(rows: pd.DataFrame, pairs: pd.DataFrame | None, decisions: pd.DataFrame, threshold: float,
          band: tuple[float, float]) -> pd.DataFrame:
    """``rows`` (one per legal row, as from linkage) with the decisions applied; adds ``method``."""
    from cscflow.linkage.proceedings import status

    out = rows.copy()
    out["method"] = "splink"
    out["child_id"] = out["candidate_child_id"].where(out["status"] != "unlinked", None)
    if decisions.empty:
        return out
    rejected = set(zip(decisions.loc[decisions["decision"] == "reject", "proceedings_id"],
                       decisions.loc[decisions["decision"] == "reject", "child_id"], strict=True))
    accepted = decisions[decisions["decision"] == "accept"].drop_duplicates("proceedings_id", keep="last")
    idx = out.set_index("proceedings_id").index
    hit = [(p, c) in rejected for p, c in zip(out["proceedings_id"], out["candidate_child_id"], strict=True)]
    for i in out.index[hit]:
        pid = out.at[i, "proceedings_id"]
        alt = pd.DataFrame()
        if pairs is not None and not pairs.empty:
            alt = pairs[(pairs["left_id"] == pid) & ~pairs["right_id"].map(lambda c, p=pid: (p, c) in rejected)]
            alt = alt.sort_values("match_probability", ascending=False)
        if alt.empty:
            out.loc[i, ["candidate_child_id", "match_probability"]] = [None, 0.0]
        else:
            out.loc[i, ["candidate_child_id", "match_probability"]] = [alt["right_id"].iloc[0],
                                                                       float(alt["match_probability"].iloc[0])]
        out.at[i, "status"] = status(pd.Series([out.at[i, "match_probability"]]), threshold, band).iloc[0]
        out.at[i, "method"] = "splink after clerical reject"
    for a in accepted.itertuples(index=False):
        if a.proceedings_id in idx:
            i = out.index[out["proceedings_id"] == a.proceedings_id][0]
            out.loc[i, ["candidate_child_id", "status", "method"]] = [a.child_id, "linked", "clerical"]
    out["child_id"] = out["candidate_child_id"].where(out["status"] != "unlinked", None)
    return out


def save_run(ws: WorkspaceLike, rows: pd.DataFrame, pairs: pd.DataFrame | None, threshold: float,
             band: tuple[float, float]) -> None:
    """Keep the latest run's rows and candidate pairs (pseudonymised ids, probabilities, evidence)."""
    keep = [c for c in rows.columns if c not in ("child_id",)]
    frame = rows[keep].astype({"candidate_child_id": "string"}).assign(threshold=threshold, band_lo=band[0],
                                                                       band_hi=band[1])
    ws.write(RESULTS, frame, mode="replace")
    if pairs is not None:
        cols = ["left_id", "right_id", "match_probability", "match_weight",
                *[c for c in pairs.columns if c.startswith(("gamma_", "bf_", "mw_"))]]
        ws.write(PAIRS, pairs[cols], mode="replace")
