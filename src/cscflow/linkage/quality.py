"""The linkage quality report (Gilbert et al. 2018; Doidge & Harron 2019 on reporting linkage).

Three parts, as data (pandas frames, no identifiers) for the CLI and the web page:

* match rates: rows, linked, review and unlinked per application year, court and final order;
* linked against unlinked legal rows on every characteristic the sheet has (application year,
  court, order, whether the proceedings have concluded, their length, the child's age at
  application, a missing date of birth, the case-number prefix, the number of children in the
  case), each with a test of difference: Pearson's chi-squared for categories, Mann–Whitney U for
  numbers (scipy). Differences mean results on linked rows only are biased (Gilbert's point);
* sensitivity: headline figures (match rate, the share of linked children never looked after by
  the final order, the median length of proceedings) re-computed at a stricter and a looser
  threshold from the same scores (no retraining).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from cscflow.linkage.proceedings import LinkResult
from cscflow.workspace import WorkspaceLike


def characteristics(result: LinkResult, ws: WorkspaceLike | None = None) -> pd.DataFrame:
    """One row per legal row: its status and the sheet's characteristics (no identifiers)."""
    p = result.proceedings.set_index("proceedings_id")
    rows = result.rows.set_index("proceedings_id")
    app = pd.to_datetime(p["application_date"])
    fin = pd.to_datetime(p["final_order_date"])
    attrs = p["attrs"].map(lambda a: json.loads(a) if isinstance(a, str) and a else {})
    case = attrs.map(lambda a: a.get("case_number"))
    out = pd.DataFrame({
        "status": rows["status"].reindex(p.index),
        "application_year": app.dt.year.astype("Int64").astype(str),
        "court": p["court"].fillna("(not recorded)"),
        "order": p["order"].fillna("(no final order yet)"),
        "concluded": fin.notna().map({True: "yes", False: "no"}),
        "weeks": (fin - app).dt.days / 7,
        "case_prefix": case.map(lambda c: "".join(ch for ch in str(c)[:4] if ch.isalpha()) or "(none)"
                                if c else "(none)"),
        "children_in_case": case.map(case.value_counts()).astype(float),
    }, index=p.index)
    if ws is not None:
        from cscflow.linkage.records import legal_records

        legal, _ = legal_records(ws)
        dob = pd.to_datetime(legal.set_index("unique_id")["dob"], errors="coerce").reindex(p.index)
        out["age_at_application"] = (app - dob).dt.days / 365.25
        out["dob_missing"] = dob.isna().map({True: "yes", False: "no"})
    return out


def match_rates(chars: pd.DataFrame, by: str) -> pd.DataFrame:
    """Rows, linked, review, unlinked and the match rate (linked / rows) per value of ``by``."""
    tab = pd.crosstab(chars[by], chars["status"])
    for s in ("linked", "review", "unlinked"):
        if s not in tab:
            tab[s] = 0
    tab = tab[["linked", "review", "unlinked"]]
    tab.insert(0, "rows", tab.sum(axis=1))
    tab["match_rate"] = tab["linked"] / tab["rows"]
    return tab.reset_index().rename(columns={by: "value"}).assign(by=by)[
        ["by", "value", "rows", "linked", "review", "unlinked", "match_rate"]]


def compare(chars: pd.DataFrame, *, suppressed: bool = True) -> pd.DataFrame:
    """Linked against not linked (review + unlinked) on each characteristic, with a test of difference.

    Through disclosure control unless ``suppressed=False``: a median of a group of 1-4 rows, or a share
    whose count (rows of that value in that group), its complement or its group is 1-4, would give back a
    child's value or a small count (the group sizes are in the summary), so it is withheld (``[c]``), and so
    is the p-value of a test involving it.

    >>> chars = pd.DataFrame({"status": ["linked"] * 20 + ["unlinked"] * 3, "weeks": range(23),
    ...                       "court": ["A"] * 18 + ["B"] * 2 + ["B"] * 3})
    >>> compare(chars)[["linked", "not_linked", "p_value"]].values.tolist()
    [['median 9.5', '[c]', '[c]'], ['[c]', '[c]', '[c]']]
    >>> compare(chars, suppressed=False)["not_linked"].tolist()
    ['median 21.0', 'A: 0.0%']
    """
    from scipy import stats

    from cscflow.disclosure import SECONDARY, THRESHOLD

    def small(k: float) -> bool:
        return suppressed and 0 < k < THRESHOLD

    linked = chars["status"] == "linked"
    out = []
    for col in chars.columns:
        if col == "status":
            continue
        x = chars[col]
        if pd.api.types.is_numeric_dtype(x):
            a, b = x[linked].dropna(), x[~linked].dropna()
            p = float(stats.mannwhitneyu(a, b).pvalue) if len(a) and len(b) else float("nan")
            hide = [small(len(a)), small(len(b))]
            out.append({"characteristic": col, "test": "Mann-Whitney U",
                        "linked": SECONDARY if hide[0] else _median(a),
                        "not_linked": SECONDARY if hide[1] else _median(b),
                        "p_value": SECONDARY if any(hide) else p})
        else:
            tab = pd.crosstab(x, linked)
            p = float(stats.chi2_contingency(tab).pvalue) if tab.shape[0] > 1 and tab.shape[1] > 1 else float("nan")
            share = pd.crosstab(x, linked, normalize="columns")
            top = share.get(False, pd.Series(dtype=float)).sub(share.get(True, 0), fill_value=0).abs()
            val = top.idxmax() if len(top) else None
            k = {side: (int(tab[side].get(val, 0)) if side in tab else 0) for side in (True, False)}
            n = {True: int(linked.sum()), False: int((~linked).sum())}
            hide = [small(k[side]) or small(n[side] - k[side]) or small(n[side]) for side in (True, False)]
            shown = {side: f"{val}: {share.get(side, pd.Series(dtype=float)).get(val, 0):.1%}"
                     for side in (True, False)}
            out.append({"characteristic": col, "test": "chi-squared",
                        "linked": SECONDARY if hide[0] else shown[True],
                        "not_linked": SECONDARY if hide[1] else shown[False],
                        "p_value": SECONDARY if any(hide) else p})
    return pd.DataFrame(out)


def _median(s: pd.Series) -> str:
    return f"median {s.median():.1f}" if len(s) else "-"


def never_looked_after(ws: WorkspaceLike, linked: pd.DataFrame, proceedings: pd.DataFrame) -> float:
    """Share of linked rows whose child had no looked-after stay starting before the final order
    (or before the data's end when the proceedings are open)."""
    if linked.empty:
        return float("nan")
    ep = ws.table("episodes")
    la = ws.execute(ep.filter(ep.stage == "looked_after").select("child_id", "start"))
    first = pd.to_datetime(la.groupby("child_id")["start"].min())
    p = proceedings.set_index("proceedings_id")
    end = pd.to_datetime(p["final_order_date"]).reindex(linked["proceedings_id"]).fillna(pd.Timestamp.max)
    start = first.reindex(linked["child_id"]).to_numpy()
    was = pd.notna(start) & (start <= end.to_numpy())
    return float(1 - was.mean())


def sensitivity(ws: WorkspaceLike, result: LinkResult, thresholds: list[float] | None = None) -> pd.DataFrame:
    """Headline figures at each threshold (default: a looser one, the one used, a stricter one)."""
    ts = thresholds or sorted({round(max(0.5, result.threshold - 0.25), 3), result.threshold,
                               round(1 - (1 - result.threshold) / 10, 4)})
    out = []
    p = result.proceedings.set_index("proceedings_id")
    weeks = (pd.to_datetime(p["final_order_date"]) - pd.to_datetime(p["application_date"])).dt.days / 7
    for t in ts:
        r = result.with_threshold(t)
        linked = r.rows[r.rows["status"] == "linked"]
        w = weeks.reindex(linked["proceedings_id"]).dropna()
        out.append({"threshold": t, "linked": len(linked), "match_rate": len(linked) / max(1, len(r.rows)),
                    "never_looked_after": never_looked_after(ws, linked, result.proceedings),
                    "median_weeks": float(np.median(w)) if len(w) else float("nan"),
                    "within_26_weeks": float((w <= 26).mean()) if len(w) else float("nan")})
    return pd.DataFrame(out)


def disclosed_rates(rates: pd.DataFrame) -> pd.DataFrame:
    """Match rates through disclosure control, one ``by`` at a time (each is a table with a row total):
    rows linked, for review and unlinked of 1-4 as "<5", secondary suppression, rates of hidden cells blank."""
    from cscflow.disclosure import suppress

    parts = [suppress(g.reset_index(drop=True), ["linked", "review", "unlinked"], row_total="rows",
                      derived={"match_rate": "linked"}) for _, g in rates.groupby("by", sort=False)]
    return pd.concat(parts, ignore_index=True) if parts else rates


def report(ws: WorkspaceLike, result: LinkResult, *, suppressed: bool = True) -> dict[str, Any]:
    """The whole report as frames: ``rates`` (by year, court, order; through disclosure control unless
    ``suppressed=False``), ``compare``, ``sensitivity``."""
    chars = characteristics(result, ws)
    rates = pd.concat([match_rates(chars, by) for by in ("application_year", "court", "order")],
                      ignore_index=True)
    if suppressed:
        rates = disclosed_rates(rates)
    return {"counts": result.counts(), "threshold": result.threshold, "review_band": list(result.review_band),
            "rates": rates, "compare": compare(chars, suppressed=suppressed), "sensitivity": sensitivity(ws, result)}


def as_json(rep: dict[str, Any]) -> dict[str, Any]:
    """The report with its frames as lists of records (for the web page)."""
    return {k: (json.loads(v.to_json(orient="records")) if isinstance(v, pd.DataFrame) else v)
            for k, v in rep.items()}
