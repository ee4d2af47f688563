"""Cohort subsets of the fetched timeline rows equal the engine's filtered timelines (apply_where in Ibis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from jdata import random_episodes

from cscflow.journeys import load_map, timelines, tracks
from cscflow.journeys.filters import AGE_BANDS, ETHNICITY_GROUPS, age_band, ethnicity_group
from cscflow.journeys.track_rows import OPEN_DAY, cohort_rows
from cscflow.journeys.tracks import OUTSIDE

FILTERS = [
    {"sex": "F"}, {"sex": "U"}, {"sex": ["F", "M"]}, {"ethnicity": "White"}, {"ethnicity": "WBRI"},
    {"ethnicity": "Unknown"}, {"ethnicity": ["Black", "MWBC"]}, {"age_band": "10-15"}, {"age_band": "Unknown"},
    {"disability": True}, {"uasc": "false"}, {"team": "North"}, {"repeat": "2"}, {"repeat": ["1", "3+"]},
    {"referral_source": "1B"}, {"referral_source": ["2A", "nope"]}, {"sex": "M", "team": "South", "repeat": "2+"},
    {"team": "Nowhere"},
]


@pytest.fixture(scope="module")
def ws_rows(tmp_path_factory):
    from cscflow import Workspace

    df = random_episodes(23, 45)
    ref = df.stage == "referral"
    codes = np.array(["1A", "1B", "2A", None], dtype=object)[np.arange(len(df)) % 4]
    df["attrs"] = [f'{{"referral_source": "{c}"}}' if r and c else None for r, c in zip(ref, codes, strict=True)]
    ids = sorted(df.child_id.unique())
    kids = pd.DataFrame({
        "child_id": ids,
        "sex": [["F", "M", None, "U"][i % 4] for i in range(len(ids))],
        "ethnicity": [["WBRI", "BAFR", "MWBC", "REFU", None, " wirt"][i % 6] for i in range(len(ids))],
        "birth_month": [pd.Timestamp("2008-03-01") + pd.DateOffset(months=11 * i) for i in range(len(ids))],
        "disability": [[True, False, None][i % 3] for i in range(len(ids))],
        "uasc": [[False, True][i % 2] for i in range(len(ids))],
    }).iloc[3:]  # three children have no row in `children`: their attributes are unknown
    kids.loc[kids.index[::5], "birth_month"] = pd.NaT
    ws = Workspace(tmp_path_factory.mktemp("rows"), la="999")
    ws.write("episodes", df, mode="replace")
    ws.write("children", kids, mode="replace")
    yield ws, kids
    ws.close()


@pytest.mark.parametrize("where", FILTERS, ids=[str(f) for f in FILTERS])
def test_subset_equals_the_engines_filtered_timeline(ws_rows, where):
    ws, kids = ws_rows
    pmap = load_map("england")
    sub = cohort_rows(ws, pmap, where)
    tl = ws.execute(timelines(ws, pmap, where)).sort_values(["child_id", "seq"]).reset_index(drop=True)
    assert sub.n_rows == len(tl)
    assert list(sub.child_ids[sub.ci]) == tl.child_id.tolist()
    assert [pmap.station_ids[i] for i in sub.st] == tl.station.tolist()
    assert sub.repeat.tolist() == tl.repeat.tolist()
    assert sub.is_exit.tolist() == (tl.kind == "exit").tolist()
    unix = pd.Timestamp("1970-01-01")
    assert sub.sday.tolist() == ((tl.start.dt.normalize() - unix).dt.days).tolist()
    eday = [OPEN_DAY if pd.isna(e) else (e.normalize() - unix).days for e in tl.end]
    assert sub.eday.tolist() == eday
    # per-child codes against a plain computation from the children table and the filtered rows
    codes, teams = sub.child_codes()
    first = tl.drop_duplicates("child_id").set_index("child_id")  # first row by seq (nulls kept)
    used = sorted(t for t in tl.team.dropna().unique())
    assert teams == used + ["Unknown"]
    info = kids.set_index("child_id")
    for i, child in enumerate(sub.child_ids):
        row = info.loc[child] if child in info.index else None
        sex = "U" if row is None or pd.isna(row["sex"]) else row["sex"]
        assert codes["sex"][i] == {"F": 0, "M": 1}.get(sex, 2)
        eth = None if row is None else row["ethnicity"]
        assert codes["ethnicity"][i] == ETHNICITY_GROUPS.index(ethnicity_group(eth))
        birth = None if row is None else row["birth_month"]
        assert codes["age_band"][i] == AGE_BANDS.index(age_band(birth, first.loc[child, "start"]))
        for col in ("disability", "uasc"):
            v = None if row is None else row[col]
            assert codes[col][i] == (2 if v is None or pd.isna(v) else int(bool(v)))
        team = first.loc[child, "team"]
        assert teams[codes["team"][i]] == ("Unknown" if team is None or pd.isna(team) else team)


def test_filtered_tracks_leave_the_map_where_the_cohort_does(ws_rows):
    ws, _ = ws_rows
    tr = tracks(ws, "england", "travel", where={"team": "North"})
    tl = ws.execute(timelines(ws, "england", where={"team": "North"}))
    assert tr.n_children == tl.child_id.nunique()
    assert int((tr.to != OUTSIDE).sum()) == len(tl)


@pytest.mark.parametrize("where", [None, {"sex": "F"}, {"team": "South", "repeat": "2+"}, {"age_band": "10-15"}])
def test_counts_on_rows_equal_stations_on(ws_rows, where):
    from cscflow.journeys.flow import stations_on

    ws, _ = ws_rows
    pmap = load_map("england")
    sub = cohort_rows(ws, pmap, where)
    for day in pd.date_range("2024-01-30", "2024-04-20", freq="6D"):
        got = sub.stations_on(day, pmap.station_ids)
        exp = stations_on(ws, pmap, day, where)
        assert got.to_dict("list") == exp.to_dict("list"), day


CHILD_ONLY = [f for f in FILTERS if set(f) <= {"sex", "ethnicity", "disability", "uasc"}]


@pytest.mark.parametrize("convention", ["travel", "queue"])
@pytest.mark.parametrize("where", CHILD_ONLY, ids=[str(f) for f in CHILD_ONLY])
def test_child_cohort_tracks_equal_tracks_from_the_cohorts_rows(ws_rows, where, convention):
    """Filters on the child alone take the cohort's legs from everyone's tracks: byte for byte the tracks
    computed from the cohort's own rows (teams relabelled to the cohort's)."""
    from cscflow.journeys.tracks import _legs

    ws, _ = ws_rows
    pmap = load_map("england")
    fast = tracks(ws, pmap, convention, where)
    slow = _legs(cohort_rows(ws, pmap, where), pmap, convention)
    assert fast.n_children == slow.n_children and fast.n_legs == slow.n_legs
    assert fast.child_ids.tolist() == slow.child_ids.tolist()
    assert fast.to_bytes() == slow.to_bytes()
