"""The privacy report of fitted synthetic data: no copied child, and distance to the closest record.

- **Copies**: a synthetic child whose birth month and every dated stay (station and start date, in order)
  equal a real child's, for journeys of three or more stays, is a copy: there should be none. Shorter
  journeys (one contact on a date) coincide by chance; the same checks of the held-out real children
  against the training children give the chance level.
- **Distance to closest record (DCR)**: each child is described by a few numbers (birth date, first and last
  start, number of stays, days in services, first and last station, whether ever looked after), scaled
  by the training children's spread; the distance from each synthetic child to the closest child the
  model was fitted on is set beside that of each held-out real child (never seen by the fit) to the
  same training children. Synthetic children much closer to the training data than held-out children are
  (a lower 5th percentile, more zero distances) would mean the generator memorised records.

Columns: check, group (synthetic, or held-out real as the chance level), children, matches (copies, or
distance 0), share (matches / children), p05 and median (distances).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

COLUMNS = ["check", "group", "children", "matches", "share", "p05", "median"]


def _birth_months(children: pd.DataFrame) -> pd.Series:
    col = "birth_month" if "birth_month" in children else "birth_date"
    b = pd.to_datetime(children.set_index("child_id")[col])
    return b.dt.to_period("M").astype(str)


def signatures(stays: pd.DataFrame, children: pd.DataFrame, first: int | None = None) -> pd.Series:
    """Per child: birth month and its dated stays (``first`` of them, or all) as one text key."""
    s = stays.sort_values(["child_id", "start", "station"], kind="stable")
    steps = s["station"].astype(str) + "@" + s["start"].dt.strftime("%Y-%m-%d")
    g = steps.groupby(s["child_id"], sort=False)
    seq = g.apply(lambda x: "|".join(x.iloc[:first] if first else x))
    if first:
        seq = seq[g.size() >= first]
    return _birth_months(children).reindex(seq.index).fillna("?") + "#" + seq


def copies(real: pd.Series, synthetic: pd.Series) -> int:
    """Synthetic children whose signature (:func:`signatures`) is a real child's."""
    return int(synthetic.isin(set(real)).sum())


def features(stays: pd.DataFrame, children: pd.DataFrame, stations: Iterable[str]) -> pd.DataFrame:
    """The numbers DCR compares, one row per child (index child_id)."""
    idx = {s: i for i, s in enumerate(stations)}
    s = stays.sort_values(["child_id", "start"], kind="stable")
    g = s.groupby("child_id", sort=True)
    origin = s["start"].max()
    days = ((s["end"].fillna(origin) - s["start"]) / pd.Timedelta(days=1)).groupby(s["child_id"]).sum()
    birth = pd.to_datetime(children.drop_duplicates("child_id").set_index("child_id")[
        "birth_month" if "birth_month" in children else "birth_date"])
    t0 = pd.Timestamp("2000-01-01")

    def years(x: pd.Series) -> pd.Series:
        return (x - t0) / pd.Timedelta(days=365.25)

    f = pd.DataFrame({"birth": years(birth.reindex(g.size().index)), "first": years(g["start"].min()),
                      "last": years(g["start"].max()), "stays": g.size().astype(float), "days": days,
                      "first_station": g["station"].first().map(idx).astype(float),
                      "last_station": g["station"].last().map(idx).astype(float),
                      "looked_after": g["station"].agg(lambda x: float((x == "looked_after").any()))})
    return f.fillna(f.median(numeric_only=True))


def dcr(train: pd.DataFrame, others: pd.DataFrame) -> np.ndarray:
    """Distance from each row of ``others`` to the closest row of ``train`` (features scaled by train's spread)."""
    from scipy.spatial import cKDTree

    scale = train.std().replace(0, 1.0).fillna(1.0)
    tree = cKDTree((train / scale).to_numpy())
    d, _ = tree.query((others[train.columns] / scale).to_numpy(), k=1)
    return np.asarray(d, dtype=float)


def _journeys(stays: pd.DataFrame, min_stays: int) -> pd.DataFrame:
    n = stays.groupby("child_id")["start"].transform("size")
    return stays[n >= min_stays]


def report(real: tuple[pd.DataFrame, pd.DataFrame], synthetic: tuple[pd.DataFrame, pd.DataFrame],
           holdout: Iterable[str], stations: list[str]) -> pd.DataFrame:
    """The privacy table (:data:`COLUMNS`) of ``synthetic`` (stays, children) against ``real`` (stays, children)
    whose ``holdout`` children were kept out of the fit. Each check is made for the synthetic children against
    every real child and, as the chance level, for the held-out real children against the training children."""
    (rs, rk), (ss, sk) = real, synthetic
    held = set(holdout)
    train = rs[~rs["child_id"].isin(held)]
    hold = rs[rs["child_id"].isin(held)]
    rows: list[dict[str, object]] = []
    for what, min_stays, first in (("copies: birth month and every dated stay (journeys of 3 or more stays)", 3, None),
                                   ("same birth month and every dated stay (any journey)", 1, None),
                                   ("same birth month and first three dated stays", 3, 3)):
        for group, mine, against in (("synthetic", ss, rs), ("held-out real", hold, train)):
            sig = signatures(_journeys(mine, min_stays), sk if group == "synthetic" else rk, first)
            ref = signatures(_journeys(against, min_stays), rk, first)
            n = int(mine["child_id"].nunique())
            m = copies(ref, sig)
            rows.append({"check": what, "group": group, "children": n, "matches": m, "share": m / max(n, 1)})
    fr, fs = features(rs, rk, stations), features(ss, sk, stations)
    ftrain, fhold = fr[~fr.index.isin(held)], fr[fr.index.isin(held)]
    for group, other in (("synthetic", fs), ("held-out real", fhold)):
        if len(ftrain) and len(other):
            d = dcr(ftrain, other)
            rows.append({"check": "distance to the closest training child", "group": group, "children": len(d),
                         "matches": int((d < 1e-9).sum()), "share": float((d < 1e-9).mean()),
                         "p05": float(np.percentile(d, 5)), "median": float(np.median(d))})
    return pd.DataFrame(rows, columns=COLUMNS)


__all__ = ["COLUMNS", "copies", "dcr", "features", "report", "signatures"]
