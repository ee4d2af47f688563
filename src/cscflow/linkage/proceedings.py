"""Link the legal department's care-proceedings rows to the children known to CSC.

:func:`link_proceedings` pulls both sides from the workspace (:mod:`cscflow.linkage.records`),
trains a Fellegi–Sunter model on them with Splink (:mod:`cscflow.linkage.model`), keeps each
legal row's best-scoring child, and gives it a status: ``linked`` at or above the threshold,
``review`` in the clerical-review band below it, ``unlinked`` otherwise. :func:`write_links`
stores the linked rows in the ``links`` table. Nothing here prints or logs identifiers: results
carry pseudonymised ids, probabilities and the comparison levels (the evidence), never names or
dates of birth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cscflow.linkage import decisions
from cscflow.linkage.model import (
    LinkageError,
    ModelSpec,
    court_dates_comparison,
    dob_comparison,
    exact_comparison,
    forenames_comparison,
    oriented,
    score_pairs,
    surname_comparison,
)
from cscflow.linkage.records import COURT_DATES, child_records, legal_records
from cscflow.workspace import WorkspaceLike

THRESHOLD = 0.95
REVIEW_BAND = (0.5, 0.95)
METHOD = "splink"
STATUSES = ("linked", "review", "unlinked")
#: A runner-up within this many bits of match weight makes a link ambiguous (sent to review).
AMBIGUOUS_BITS = 1.0
OUTPUT_COLUMNS = ["source", "source_row", "proceedings_id", "child_id", "match_probability", "status"]


def proceedings_spec() -> ModelSpec:
    """The comparisons, blocking rules and training plan of proceedings linkage."""
    import splink

    court = [f"court_day_{i + 1}" for i in range(COURT_DATES)]
    return ModelSpec(
        comparisons=[surname_comparison(), forenames_comparison(), dob_comparison(), exact_comparison("sex"),
                     court_dates_comparison(court)],
        blocking_rules=[splink.block_on("dob"), "l.dob_swapped = r.dob", "l.dob = r.dob_swapped",
                        splink.block_on("surname", "forename1"), splink.block_on("forename_std", "substr(dob, 1, 4)"),
                        splink.block_on("surname1", "substr(dob, 1, 4)")],
        # EM blocked on the date of birth trains the names, sex and court dates; blocked on the names,
        # the date of birth and the court dates (Splink averages a comparison's m over its sessions).
        em_rules=[splink.block_on("dob"), splink.block_on("surname", "forename1")],
        deterministic_rules=["l.dob = r.dob AND l.surname = r.surname AND l.forename1 = r.forename1"],
        recall=0.8,
    )


@dataclass
class LinkResult:
    """Each legal row's best candidate child, its probability and status (no identifiers).

    ``rows`` has :data:`OUTPUT_COLUMNS` plus ``second_probability`` (the runner-up child's),
    ``candidates`` and the ``mw_*`` evidence (match weight per comparison) of the best pair; ``proceedings`` the
    proceedings rows (dates, order, court, attrs); ``model`` the trained Splink model.
    """

    rows: pd.DataFrame
    proceedings: pd.DataFrame
    threshold: float
    review_band: tuple[float, float]
    model: dict[str, Any] = field(default_factory=dict)
    pairs: pd.DataFrame | None = None

    def counts(self) -> dict[str, int]:
        """Rows per status."""
        vc = self.rows["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUSES}

    def with_threshold(self, threshold: float, review_band: tuple[float, float] | None = None) -> LinkResult:
        """The same scores with another threshold (for sensitivity analysis); nothing is retrained."""
        band = review_band or (min(self.review_band[0], threshold), threshold)
        rows = self.rows.copy()
        rows["status"] = status(rows["match_probability"], threshold, band, ambiguous(rows))
        if "method" in rows:  # clerical decisions stand whatever the threshold
            rows.loc[rows["method"] == "clerical", "status"] = "linked"
        rows["child_id"] = rows["candidate_child_id"].where(rows["status"] != "unlinked", None)
        return LinkResult(rows, self.proceedings, threshold, band, self.model, self.pairs)


def status(p: pd.Series, threshold: float, band: tuple[float, float], ambiguous: pd.Series | None = None) -> pd.Series:
    """'linked' at or above ``threshold``, 'review' within ``band`` below it, else 'unlinked'.

    A row whose runner-up child scores almost as well (``ambiguous``) goes to review instead of
    being linked: the model cannot tell the two apart (twins, or two children of one name when
    the date of birth is missing).
    """
    lo, hi = band
    out = pd.Series("unlinked", index=p.index, dtype=object)
    out[(p >= lo) & (p < min(hi, threshold))] = "review"
    out[p >= threshold] = "linked"
    if ambiguous is not None:
        out[(out == "linked") & ambiguous.fillna(False).astype(bool)] = "review"
    return out


def ambiguous(rows: pd.DataFrame) -> pd.Series:
    """The runner-up is within :data:`AMBIGUOUS_BITS` of the best match weight (Bayes factor < 2)."""
    gap = rows["match_weight"] - rows["second_weight"]
    return (gap < AMBIGUOUS_BITS).fillna(False)


def check_band(threshold: float, band: tuple[float, float]) -> None:
    """Refuse a threshold outside (0, 1] or a review band that is not below it."""
    lo, hi = band
    if not 0 < threshold <= 1:
        raise LinkageError(f"threshold {threshold} is not a probability in (0, 1]", hint="use e.g. 0.95")
    if not 0 <= lo <= hi <= threshold:
        raise LinkageError(f"review band {lo},{hi} is not below the threshold {threshold}",
                           hint="give LO,HI with 0 <= LO <= HI <= threshold, e.g. 0.5,0.95")


def link_proceedings(ws: WorkspaceLike, *, threshold: float = THRESHOLD, review_band: tuple[float, float] | None = None,
                     spark: Any = None, seed: int = 1) -> LinkResult:
    """Link every legal row of ``ws`` to its best candidate child (see the module docstring).

    The engine is the workspace's: DuckDB, or Spark for a workspace made by
    :meth:`Workspace.from_spark` (its session is used unless ``spark`` is given).
    """
    band = review_band or (REVIEW_BAND[0], threshold)
    check_band(threshold, band)
    legal, procs = legal_records(ws)
    if legal.empty:
        raise LinkageError("the workspace has no care-proceedings rows to link",
                           hint="load the legal department's spreadsheet with `cscflow load WS FILE`")
    kids = child_records(ws, exclude_sources=sorted(set(procs["source"].dropna())))
    if kids.empty:
        raise LinkageError("the workspace has no children to link the proceedings to",
                           hint="load Annex A, CIN census or SSDA903 returns first")
    if not kids["surname"].notna().any():
        raise LinkageError(f"none of the workspace's {len(kids):,} children has a name: the returns (Annex A, the CIN "
                           "census, SSDA903) carry none, and linkage compares names and dates of birth",
                           hint="give the case-management system's person list (child id, surname, forename(s), date "
                                "of birth, gender): `cscflow link WS --people FILE`")
    engine = ws.engine
    if engine == "pyspark" and spark is None:
        spark = ws.engine_session()
    pairs, model = score_pairs(legal, kids, proceedings_spec(), engine=engine, spark=spark, seed=seed)
    pairs = oriented(pairs)
    rows = best_candidates(pairs, procs)
    rows["status"] = status(rows["match_probability"], threshold, band, ambiguous(rows))
    rows = decisions.apply(rows, pairs, decisions.load(ws), threshold, band)
    return LinkResult(rows, procs, threshold, band, model, pairs)


def best_candidates(pairs: pd.DataFrame, procs: pd.DataFrame) -> pd.DataFrame:
    """Per proceedings row: its best child, probability, the runner-up's probability and the evidence."""
    evidence = [c for c in pairs.columns if c.startswith(("gamma_", "bf_", "mw_"))]
    ranked = pairs.sort_values(["left_id", "match_probability", "right_id"], ascending=[True, False, True])
    ranked["rank"] = ranked.groupby("left_id").cumcount()
    best = ranked[ranked["rank"] == 0].set_index("left_id")
    second = ranked[ranked["rank"] == 1].set_index("left_id")
    n = ranked.groupby("left_id").size()
    out = procs[["source", "source_row", "proceedings_id"]].copy()
    pid = out["proceedings_id"]
    out["candidate_child_id"] = pid.map(best["right_id"])
    out["match_probability"] = pid.map(best["match_probability"]).fillna(0.0).astype(float)
    out["match_weight"] = pid.map(best["match_weight"])
    out["second_probability"] = pid.map(second["match_probability"]).fillna(0.0).astype(float)
    out["second_weight"] = pid.map(second["match_weight"])
    out["candidates"] = pid.map(n).fillna(0).astype(int)
    for c in evidence:
        out[c] = pid.map(best[c])
    return out.reset_index(drop=True)


def latest(ws: WorkspaceLike) -> LinkResult:
    """The last run stored in the workspace (by :func:`write_links`), without retraining."""
    if decisions.RESULTS not in ws.tables():
        raise LinkageError("the workspace has not been linked yet", hint="run `cscflow link WORKSPACE`")
    rows = ws.execute(ws.table(decisions.RESULTS))
    rows["child_id"] = rows["candidate_child_id"].where(rows["status"] != "unlinked", None)
    procs = ws.execute(ws.table("proceedings"))
    pairs = ws.execute(ws.table(decisions.PAIRS)) if decisions.PAIRS in ws.tables() else None
    t, lo, hi = (float(rows[c].iloc[0]) for c in ("threshold", "band_lo", "band_hi"))
    return LinkResult(rows, procs, t, (lo, hi), {}, pairs)


def output_frame(result: LinkResult) -> pd.DataFrame:
    """The CSV the CLI writes: :data:`OUTPUT_COLUMNS` (pseudonymised ids, no identifiers)."""
    return result.rows[OUTPUT_COLUMNS].sort_values(["source", "source_row"]).reset_index(drop=True)


def write_links(ws: WorkspaceLike, result: LinkResult) -> int:
    """Replace the ``links`` table with the linked rows (and keep the run for the review page);
    returns how many rows were linked."""
    linked = result.rows[result.rows["status"] == "linked"]
    frame = pd.DataFrame({"proceedings_id": linked["proceedings_id"].astype(str),
                          "child_id": linked["child_id"].astype(str),
                          "match_probability": linked["match_probability"].astype(float),
                          "method": linked.get("method", METHOD)})
    n = ws.write("links", frame, mode="replace")
    decisions.save_run(ws, result.rows, result.pairs, result.threshold, result.review_band)
    return n
