"""Documented repairs of SSDA903 episodes read from several yearly returns at once.

Each yearly 903 return repeats every episode open during its year, so loading
five years gives the same episode up to five times, sometimes open in an early
return and closed in a later one, and LA systems leave open, overlapping or
gapped episodes. :func:`repair_episodes` applies these rules, in this order, and
records every change (``rule`` names are what the quality report shows):

``duplicate_removed``
    An exact copy of another row (same child and every episode field) is dropped;
    the copy from the latest return is kept.
``replaced_by_later_return``
    Rows of one child with the same start (DECOM) in several returns: the latest
    return's version is kept (so a later closed version replaces an open earlier
    one); within one return the closed version is kept. Also: an episode from an
    earlier return that starts inside an episode of a later return (the later
    return restated the history) is dropped.
``open_closed_by_next``
    An open episode (no DEC) followed by a later episode of the same child is
    closed at the later DECOM; REC becomes ``X1`` unless the later episode starts
    a new period of care (RNE ``S``).
``overlap_truncated``
    An episode ending after the next one starts ends at the next DECOM.
``gap_closed``
    An episode ending with REC ``X1`` (a new episode begins the same day) but
    followed by a gap ends at the next DECOM.
``open_absent_from_later_returns``
    A child's last episode is open in a return, but the LA's later returns (which
    would repeat it were it still open) do not hold the child: it is closed at the
    end of that return's collection year (31 March), a lower bound, REC unknown.

Rows dropped by the first two rules are *loaded* (their content is in the kept
row) and listed as repairs. The rules follow the cases of
``SSDA903_episodes_for_testing_fixes_INPUT.csv`` (liia-tools samples), whose
row ids name the case each row exercises.

>>> import pandas as pd
>>> eps = pd.DataFrame({"child": ["A", "A"], "la_key": "", "year": [2019, 2020],
...     "decom": pd.to_datetime(["2018-05-01", "2019-06-01"]), "dec": pd.to_datetime([None, None]),
...     "rne": ["S", "P"], "rec": [None, None], "ref": [(0, 1), (0, 2)]})
>>> kept, repairs = repair_episodes(eps)
>>> kept["dec"].dt.strftime("%Y-%m-%d").tolist(), [r[1] for r in repairs]
(['2019-06-01', nan], ['open_closed_by_next'])
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: Fields compared to call two rows exact duplicates (those present in the frame).
EPISODE_FIELDS = ("decom", "dec", "rne", "ls", "cin", "place", "place_provider", "rec", "reason_place_change")


def _fmt(ts: Any) -> str:
    return "open" if pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def repair_episodes(eps: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[tuple[Any, ...], str, str]]]:
    """Apply the repair rules; return the kept episodes and ``(ref, rule, detail)`` per repair.

    ``eps`` needs columns child, la_key, year, decom, dec, rne, rec and ref (a hashable
    pointer to the source row); other episode fields are compared for exact duplicates.

    >>> eps = pd.DataFrame({"child": "A", "la_key": "", "year": [2019, 2020, 2020, 2019],
    ...     "decom": pd.to_datetime(["2018-05-01", "2018-04-01", "2018-06-01", "2018-06-01"]),
    ...     "dec": pd.to_datetime(["2018-07-01", "2018-09-01", None, None]), "rne": "S", "rec": None,
    ...     "ref": [(0, 1), (0, 2), (0, 3), (0, 4)]})
    >>> for ref, rule, detail in repair_episodes(eps)[1]:
    ...     print(ref[1], rule, "|", detail)
    4 duplicate_removed | exact copy of row 3
    1 replaced_by_later_return | starts 2018-05-01, inside the episode 2018-04-01 to 2018-09-01 of the 2020 return (row 2)
    2 overlap_truncated | ended 2018-09-01 after the next episode began 2018-06-01; now ends then
    """
    repairs: list[tuple[tuple[Any, ...], str, str]] = []
    if eps.empty:
        return eps.copy(), repairs
    df = eps.copy()
    df["_closed"] = df["dec"].notna()
    df = df.sort_values(["child", "decom", "year", "_closed"], ascending=[True, True, False, False], kind="mergesort")

    # 1. exact duplicates (the latest return's copy comes first and is kept)
    fields = ["child", *[f for f in EPISODE_FIELDS if f in df.columns]]
    dup = df.duplicated(subset=fields, keep="first")
    if dup.any():
        group = df.groupby(fields, dropna=False, sort=False).ngroup()
        first_ref = df["ref"].groupby(group).transform("first")
        for ref, kept_ref in zip(df.loc[dup, "ref"], first_ref[dup], strict=True):
            repairs.append((ref, "duplicate_removed", f"exact copy of {_where(kept_ref)}"))
    df = df.loc[~dup]

    # 2a. same start in several rows: latest return, then closed, wins
    same = df.duplicated(subset=["child", "decom"], keep="first")
    if same.any():
        keepers = df.loc[~same, ["child", "decom", "year", "ref", "dec"]]
        lost = df.loc[same, ["ref", "child", "decom", "year"]].merge(
            keepers, on=["child", "decom"], how="left", suffixes=("", "_kept"), sort=False)
        for ref, decom, year, kept_year, kept_ref, kept_dec in zip(
                lost["ref"], lost["decom"], lost["year"], lost["year_kept"], lost["ref_kept"], lost["dec"],
                strict=True):
            why = "a later return" if kept_year > year else "the same return"
            repairs.append((ref, "replaced_by_later_return",
                            f"episode starting {_fmt(decom)} restated in {why} ({_where(kept_ref)}, "
                            f"ending {_fmt(kept_dec)})"))
        df = df.loc[~same]

    # 2b. an earlier return's episode starting inside a later return's episode (the first such
    # episode of the child, in row order, is named)
    years = df.groupby("child", sort=False)["year"].transform("nunique")
    several = df.loc[years > 1, ["child", "ref", "decom", "dec", "year"]]
    drop = []
    if len(several):
        several = several.assign(_pos=range(len(several)), _index=several.index)
        pairs = several.merge(several, on="child", suffixes=("", "_o"), sort=False)
        inside = (pairs["year_o"] > pairs["year"]) & (pairs["decom_o"] < pairs["decom"]) & (
            pairs["dec_o"].isna() | (pairs["decom"] < pairs["dec_o"]))
        hits = pairs.loc[inside].sort_values(["_pos", "_pos_o"], kind="mergesort").drop_duplicates("_pos")
        for index, ref, decom, o_decom, o_dec, o_year, o_ref in zip(
                hits["_index"], hits["ref"], hits["decom"], hits["decom_o"], hits["dec_o"], hits["year_o"],
                hits["ref_o"], strict=True):
            drop.append(index)
            repairs.append((ref, "replaced_by_later_return",
                            f"starts {_fmt(decom)}, inside the episode {_fmt(o_decom)} to "
                            f"{_fmt(o_dec)} of the {o_year} return ({_where(o_ref)})"))
    df = df.drop(index=drop)

    # 3-5. sequence repairs within each child
    df = df.sort_values(["child", "decom"], kind="mergesort").copy()
    nxt_child = df["child"].shift(-1)
    nxt_decom = df["decom"].shift(-1)
    nxt_rne = df["rne"].shift(-1)
    has_next = nxt_child.eq(df["child"])
    dec = df["dec"].copy()
    rec = df["rec"].copy()
    for idx in df.index[has_next & df["dec"].isna()]:
        dec[idx] = nxt_decom[idx]
        if nxt_rne[idx] != "S" and not _filled(rec[idx]):
            rec[idx] = "X1"
        repairs.append((df.at[idx, "ref"], "open_closed_by_next",
                        f"open episode from {_fmt(df.at[idx, 'decom'])} closed at the next DECOM {_fmt(nxt_decom[idx])}"))
    over = has_next & df["dec"].notna() & (df["dec"] > nxt_decom)
    for idx in df.index[over]:
        dec[idx] = nxt_decom[idx]
        repairs.append((df.at[idx, "ref"], "overlap_truncated",
                        f"ended {_fmt(df.at[idx, 'dec'])} after the next episode began {_fmt(nxt_decom[idx])}; "
                        "now ends then"))
    gap = has_next & df["dec"].notna() & (df["dec"] < nxt_decom) & df["rec"].eq("X1")
    for idx in df.index[gap]:
        dec[idx] = nxt_decom[idx]
        repairs.append((df.at[idx, "ref"], "gap_closed",
                        f"REC X1 but the next episode began {_fmt(nxt_decom[idx])}, not {_fmt(df.at[idx, 'dec'])}; "
                        "now ends at the next DECOM"))
    df["dec"], df["rec"] = dec, rec

    # 6. open last episode of a child absent from the LA's later returns
    latest = df.groupby("la_key")["year"].transform("max")
    last = ~has_next & df["dec"].isna() & (df["year"] < latest)
    df["end_estimated"] = False
    for idx in df.index[last]:
        year = int(df.at[idx, "year"])
        df.at[idx, "dec"] = pd.Timestamp(year, 3, 31)
        df.at[idx, "end_estimated"] = True
        repairs.append((df.at[idx, "ref"], "open_absent_from_later_returns",
                        f"open in the {year} return, child absent from later returns; closed at {year}-03-31"))
    bad_order = df["dec"].notna() & (df["dec"] < df["decom"])
    if bad_order.any():  # a repair cannot end an episode before it starts: restore its own date
        df.loc[bad_order, "dec"] = df.loc[bad_order, "decom"]
    return df.drop(columns=["_closed"]), repairs


def _filled(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _where(ref: Any) -> str:
    if isinstance(ref, tuple) and len(ref) == 3:
        return f"{ref[2]} row {ref[1]}"
    return f"row {ref[1]}" if isinstance(ref, tuple) else str(ref)
