"""The two sides of proceedings linkage, as comparison records pulled from a workspace.

One record per legal row (its proceedings_id, the child's names and date of birth as the legal
department typed them, the application date) and one per child known to children's social care
(names and date of birth from the sources that hold them, the most frequent value when sources
differ; sex; the dates that corroborate care proceedings: the start of each looked-after episode
under an interim care order, legal status C1, and of each ``pre_proceedings`` or ``proceedings``
stage). Both sides share one column layout (:data:`COLUMNS`): the columns one side lacks are null.
Dates become day numbers (days since 1970-01-01) so that comparisons are plain arithmetic that
runs the same on DuckDB and Spark.

The frames hold identifiers: they stay in memory for the linkage and are never written or shown.
"""

from __future__ import annotations

import pandas as pd

from cscflow.linkage.names import clean_name, first_forename, standard_forename, surname_parts, swapped_dob
from cscflow.workspace import WorkspaceLike

#: How many corroborating court dates a child's record carries (the earliest ones).
COURT_DATES = 4
#: 903 legal status of an interim care order (model/codes/legal_status.yaml).
INTERIM_CARE = ("C1",)
#: CSC stages that are themselves court involvement (CIN census 2026, event logs).
COURT_STAGES = ("pre_proceedings", "proceedings")
COLUMNS = ["unique_id", "surname", "surname1", "surname2", "forenames", "forename1", "forename_std", "name_key", "dob",
           "dob_swapped", "sex", "app_day", *[f"court_day_{i + 1}" for i in range(COURT_DATES)]]


def day_number(values: pd.Series) -> pd.Series:
    """Dates as whole days since 1970-01-01 (nullable integers)."""
    ts = pd.to_datetime(values, errors="coerce")
    out = (ts - pd.Timestamp("1970-01-01")).dt.days
    return out.astype("Int64")


def standardise(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the cleaned comparison columns to a frame with unique_id, surname, forenames, birth_date."""
    out = pd.DataFrame({"unique_id": frame["unique_id"].astype(str).to_numpy()})
    sur = frame["surname"].map(clean_name)
    fore = frame["forenames"].map(clean_name)
    parts = [surname_parts(s) for s in sur]
    out["surname"] = sur.to_numpy()
    out["surname1"] = [p[0] for p in parts]
    out["surname2"] = [p[1] for p in parts]
    out["forenames"] = fore.to_numpy()
    out["forename1"] = fore.map(first_forename).to_numpy()
    out["forename_std"] = fore.map(standard_forename).to_numpy()
    out["name_key"] = [" ".join(sorted((f, s))) if isinstance(f, str) and isinstance(s, str) else None
                       for f, s in zip(out["forename1"], out["surname"], strict=True)]
    dob = pd.to_datetime(frame["birth_date"], errors="coerce")
    iso = dob.dt.strftime("%Y-%m-%d").where(dob.notna(), None)
    out["dob"] = iso.to_numpy()
    out["dob_swapped"] = iso.map(swapped_dob).to_numpy()
    out["sex"] = frame["sex"].to_numpy() if "sex" in frame else None
    out["sex"] = out["sex"].where(out["sex"].isin(["M", "F"]), None)
    return out


def legal_records(ws: WorkspaceLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(comparison records of the legal rows, the proceedings rows without identifiers)."""
    pr = ws.table("proceedings")
    procs = ws.execute(pr.select("proceedings_id", "source", "source_row", "application_date",
                                 "final_order_date", "order", "court", "attrs"))
    idf = ws.table("identifiers")
    sources = sorted(set(procs["source"].dropna()))
    ids = ws.execute(idf.filter(idf.source.isin(sources) if sources else idf.source.isnull())
                     .select("source_child_id", "surname", "forenames", "birth_date"))
    ids = ids.drop_duplicates("source_child_id").rename(columns={"source_child_id": "proceedings_id"})
    both = procs.merge(ids, on="proceedings_id", how="left").rename(columns={"proceedings_id": "unique_id"})
    recs = standardise(both)
    recs["sex"] = infer_sex(recs["forename1"], _forename_sex(ws))
    recs["app_day"] = day_number(both["application_date"]).to_numpy()
    for i in range(COURT_DATES):
        recs[f"court_day_{i + 1}"] = pd.array([pd.NA] * len(recs), dtype="Int64")
    return recs[COLUMNS], procs


def child_records(ws: WorkspaceLike, exclude_sources: list[str]) -> pd.DataFrame:
    """Comparison records of the children known to CSC (one per child_id)."""
    idf = ws.table("identifiers")
    keep = idf.child_id.notnull()
    if exclude_sources:
        keep &= ~idf.source.isin(exclude_sources)
    ids = ws.execute(idf.filter(keep).select("child_id", "surname", "forenames", "birth_date"))
    kids = ws.execute(ws.table("children").select("child_id", "sex"))
    per = _modes(ids, ["surname", "forenames", "birth_date"])
    per = kids.merge(per, on="child_id", how="outer")
    per = per.rename(columns={"child_id": "unique_id"})
    recs = standardise(per)
    recs["app_day"] = pd.array([pd.NA] * len(recs), dtype="Int64")
    court = court_dates(ws)
    recs = recs.merge(court, left_on="unique_id", right_index=True, how="left")
    for i in range(COURT_DATES):
        col = f"court_day_{i + 1}"
        recs[col] = (recs[col] if col in recs else pd.Series(pd.NA, index=recs.index)).astype("Int64")
    return recs[COLUMNS].reset_index(drop=True)


def court_dates(ws: WorkspaceLike) -> pd.DataFrame:
    """Per child, the earliest :data:`COURT_DATES` day numbers of interim care and court stages."""
    ep = ws.table("episodes")
    rows = ws.execute(ep.filter(ep.stage.isin(["looked_after", *COURT_STAGES]))
                      .select("child_id", "stage", "start", "attrs"))
    if rows.empty:
        return pd.DataFrame(columns=[f"court_day_{i + 1}" for i in range(COURT_DATES)])
    pattern = "|".join(f'"legal_status": ?"{c}"' for c in INTERIM_CARE)
    hit = rows["stage"].isin(COURT_STAGES) | rows["attrs"].fillna("").str.contains(pattern, regex=True)
    rows = rows[hit & rows["child_id"].notna()]
    rows = rows.assign(day=day_number(rows["start"])).dropna(subset=["day"])
    rows = rows.drop_duplicates(["child_id", "day"]).sort_values(["child_id", "day"])
    rows["k"] = rows.groupby("child_id").cumcount()
    rows = rows[rows["k"] < COURT_DATES]
    wide = rows.pivot(index="child_id", columns="k", values="day")
    wide.columns = [f"court_day_{int(k) + 1}" for k in wide.columns]
    return wide


def _modes(ids: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """The most frequent non-null value of each column per child (ties: the first in sort order)."""
    out = None
    for col in cols:
        sub = ids[["child_id", col]].dropna()
        if col == "birth_date":
            sub = sub.assign(**{col: pd.to_datetime(sub[col], errors="coerce")}).dropna()
        counts = sub.groupby(["child_id", col]).size().rename("n").reset_index()
        counts = counts.sort_values(["child_id", "n", col], ascending=[True, False, True])
        best = counts.drop_duplicates("child_id")[["child_id", col]]
        out = best if out is None else out.merge(best, on="child_id", how="outer")
    return out if out is not None else pd.DataFrame(columns=["child_id", *cols])


def _forename_sex(ws: WorkspaceLike) -> dict[str, str]:
    """First forename -> 'M' or 'F' when at least 95% of the children of that name (5 or more) share it."""
    idf = ws.table("identifiers")
    ch = ws.table("children")
    j = idf.filter(idf.forenames.notnull()).join(ch, "child_id").select(idf.child_id, idf.forenames, ch.sex)
    j = j.distinct().group_by(["forenames", "sex"]).aggregate(n=lambda t: t.count())
    names = ws.execute(j)
    if names.empty:
        return {}
    names["f"] = names["forenames"].map(clean_name).map(first_forename)
    names = names[names["sex"].isin(["M", "F"]) & names["f"].notna()]
    tab = names.groupby(["f", "sex"])["n"].sum().unstack(fill_value=0)
    for s in ("M", "F"):
        if s not in tab:
            tab[s] = 0
    total = tab["M"] + tab["F"]
    out = {}
    for f, m, n in zip(tab.index, tab["M"], total, strict=True):
        if n >= 5 and m / n >= 0.95:
            out[f] = "M"
        elif n >= 5 and m / n <= 0.05:
            out[f] = "F"
    return out


def infer_sex(forename1: pd.Series, table: dict[str, str]) -> list[str | None]:
    """Sex from the first forename where the children's own names make it near certain, else None.

    >>> infer_sex(pd.Series(["amy", "sam", None]), {"amy": "F"})
    ['F', None, None]
    """
    return [table.get(f) if isinstance(f, str) else None for f in forename1]
