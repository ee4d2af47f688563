"""Timelines against a plain day-by-day reference, and the edge cases the prototype got wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from jdata import episodes_frame, random_episodes

from cscflow.journeys import load_map, timelines
from cscflow.journeys.timeline import data_end

DAY = pd.Timedelta(days=1)


def naive_timeline(df: pd.DataFrame, pmap) -> pd.DataFrame:
    """The rules of cscflow.journeys.timeline, written as a day-by-day scan (whole-day data only)."""
    last = max(df["start"].max(), df["end"].max())
    rank = {s: i for i, s in enumerate(pmap.precedence)}
    needs = (df[df.need_id.notna()].groupby(["child_id", "need_id"])["start"].min().reset_index()
             .sort_values(["child_id", "start", "need_id"]))
    needs["r"] = needs.groupby("child_id").cumcount() + 1
    need_rank = {(c, n): r for c, n, r in zip(needs.child_id, needs.need_id, needs.r, strict=True)}
    out = []
    for child, g in df.groupby("child_id"):
        stays = []
        for r in _continued(g, pmap):
            st = pmap.station_of(r.stage)
            if st is None:
                continue
            is_open = pd.isna(r.end)
            e = last if is_open else max(r.end, r.start)
            stays.append({"st": st, "rank": rank[st], "s": r.start, "e": e, "open": is_open,
                          "exit": None if is_open else pmap.exit_of(r.outcome), "need": r.need_id,
                          "ord": (r.source, r.source_row, r.episode_id), "team": r.team})
        stays.sort(key=lambda x: (x["s"], x["e"], x["ord"]))
        for k, x in enumerate(stays):
            x["k"] = k
        ivs = [x for x in stays if x["e"] > x["s"]]
        kept = [p for p in stays if p["e"] == p["s"]
                and not any(i["s"] < p["s"] < i["e"] and i["rank"] <= p["rank"] for i in ivs)]
        kept_times = {p["s"] for p in kept}
        pieces = []
        if ivs:
            d, hi, cur = min(i["s"] for i in ivs), max(i["e"] for i in ivs), None
            while d < hi:
                cov = [i for i in ivs if i["s"] <= d and i["e"] >= d + DAY]
                w = min(cov, key=lambda i: (i["rank"], i["s"], i["k"])) if cov else None
                if w is not None and cur is not None and cur["stay"] is w and d not in kept_times:
                    cur["e"] = d + DAY
                elif w is not None:
                    cur = {"stay": w, "s": d, "e": d + DAY}
                    pieces.append(cur)
                else:
                    cur = None
                d += DAY
        items = []
        for p in pieces:
            x = p["stay"]
            final = p["e"] == x["e"]
            items.append(((p["s"], 2, x["k"], 0), x, x["st"], p["s"], None if x["open"] and final else p["e"], "stay"))
            if final and x["exit"] and not any(i["s"] < p["e"] < i["e"] for i in ivs):
                items.append(((p["e"], 0, x["k"], 1), x, x["exit"], p["e"], p["e"], "exit"))
        for x in kept:
            items.append(((x["s"], 1, x["k"], 0), x, x["st"], x["s"], None if x["open"] else x["s"], "stay"))
            if x["exit"] and not any(i["s"] < x["s"] < i["e"] for i in ivs):
                items.append(((x["s"], 1, x["k"], 1), x, x["exit"], x["s"], x["s"], "exit"))
        items.sort(key=lambda it: it[0])
        seen = 0
        for seq, (_, x, station, s, e, kind) in enumerate(items, start=1):
            nr = need_rank.get((child, x["need"])) if x["need"] is not None else None
            rep = nr if nr is not None else seen + 1
            if nr is not None:
                seen = max(seen, nr)
            out.append({"child_id": child, "need_id": x["need"], "repeat": rep, "seq": seq, "station": station,
                        "start": s, "end": e, "kind": kind})
    return pd.DataFrame(out)


def _continued(g: pd.DataFrame, pmap) -> list:
    """A child's stays with each continuing one (outcome = its own stage, SSDA903's X1) and the next stay at its
    station begun when it ends made one: the first's start and identity, the last's end, outcome and team."""
    from types import SimpleNamespace

    never = pd.Timestamp.max
    rows = sorted(g.itertuples(), key=lambda r: (pmap.station_of(r.stage) or "", r.start,
                                                 never if pd.isna(r.end) else r.end,
                                                 (r.source, r.source_row, r.episode_id)))
    out: list = []
    last_stage = None
    for r in rows:
        st = pmap.station_of(r.stage)
        prev = out[-1] if out else None
        if (st is not None and prev is not None and pmap.station_of(prev.stage) == st and prev.outcome == last_stage
                and not pd.isna(prev.end) and prev.end == r.start):
            prev.end, prev.outcome, prev.team = r.end, r.outcome, r.team
        else:
            out.append(SimpleNamespace(**r._asdict()))
        last_stage = r.stage
    return out


def run(ws, pmap) -> pd.DataFrame:
    got = ws.execute(timelines(ws, pmap))
    return got.sort_values(["child_id", "seq"]).reset_index(drop=True)


def compare(got: pd.DataFrame, want: pd.DataFrame) -> None:
    cols = ["child_id", "seq", "station", "start", "end", "kind", "need_id", "repeat"]
    g, w = got[cols].copy(), want[cols].copy()
    for f in (g, w):
        f["end"] = pd.to_datetime(f["end"])
        f["start"] = pd.to_datetime(f["start"])
        f["repeat"] = f["repeat"].astype("int64")
        f["seq"] = f["seq"].astype("int64")
        f["need_id"] = f["need_id"].astype(object).where(f["need_id"].notna(), None)
    pd.testing.assert_frame_equal(g.reset_index(drop=True), w.reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("map_name", ["england", "front_door"])
def test_timelines_equal_day_by_day_reference(write_episodes, seed, map_name):
    df = random_episodes(seed)
    ws = write_episodes(df)
    pmap = load_map(map_name)
    got = run(ws, pmap)
    want = naive_timeline(df, pmap)
    assert len(want) > 100
    compare(got, want)


def test_same_day_steps_are_kept_in_order(write_episodes):
    ws = write_episodes([
        ("c1", "contact", "2024-03-01 09:00", "2024-03-01 09:00", "referral", None),
        ("c1", "referral", "2024-03-01 09:00", "2024-03-01 09:00", "strategy_discussion", "n1"),
        ("c1", "strategy_discussion", "2024-03-01 09:00", "2024-03-01 09:00", "s47", "n1"),
        ("c1", "s47", "2024-03-01 09:00", "2024-03-11", "nfa", "n1"),
    ])
    got = run(ws, load_map("england"))
    assert got["station"].tolist() == ["contact", "referral", "strategy_discussion", "s47", "nfa"]
    assert got["kind"].tolist() == ["stay"] * 4 + ["exit"]


def test_source_order_breaks_ties_between_same_instant_stays(write_episodes):
    df = episodes_frame([
        ("c1", "referral", "2024-03-01", "2024-03-01", None, "n1"),
        ("c1", "contact", "2024-03-01", "2024-03-01", "referral", None),
    ])
    df["source_row"] = [2, 1]  # the contact is first in the source
    ws = write_episodes(df)
    assert run(ws, load_map("england"))["station"].tolist() == ["contact", "referral"]


def test_overlapping_stages_resolved_by_precedence(write_episodes):
    ws = write_episodes([
        ("c1", "cp_plan", "2024-01-01", "2024-06-01", "closed", "n1"),
        ("c1", "looked_after", "2024-02-01", "2024-03-01", "returned_home", "n1"),
        ("c1", "contact", "2024-04-01", "2024-04-01", "nfa", None),  # inside the CP plan: part of it
    ])
    got = run(ws, load_map("england"))
    assert got[["station", "start", "end"]].astype(str).values.tolist() == [
        ["cp_plan", "2024-01-01", "2024-02-01"],
        ["looked_after", "2024-02-01", "2024-03-01"],
        # the child goes home but stays on the CP plan: no exit is drawn while the plan carries on
        ["cp_plan", "2024-03-01", "2024-06-01"],
        ["closed", "2024-06-01", "2024-06-01"],
    ]


def test_open_stays_stay_open_at_the_end_date(write_episodes):
    ws = write_episodes([
        ("c1", "referral", "2024-01-01", "2024-01-03", "assessment", "n1"),
        ("c1", "assessment", "2024-01-03", None, None, "n1"),
        ("c2", "looked_after", "2023-05-01", None, None, "n2"),
        ("c2", "cp_plan", "2023-01-01", "2023-08-01", "looked_after", "n2"),
        ("c3", "contact", "2024-02-29", "2024-02-29", "nfa", None),
    ])
    assert data_end(ws) == pd.Timestamp("2024-02-29")
    got = run(ws, load_map("england"))
    c1 = got[got.child_id == "c1"]
    assert pd.isna(c1["end"].iloc[-1]) and c1["station"].iloc[-1] == "assessment"
    c2 = got[got.child_id == "c2"]
    assert c2["station"].tolist() == ["cp_plan", "looked_after"]
    assert pd.isna(c2["end"].iloc[-1])


def test_thirty_episodes_of_need(write_episodes):
    rows = []
    for i in range(30):
        day = pd.Timestamp("2020-01-06") + pd.Timedelta(weeks=6 * i)
        rows += [("c1", "contact", day, day, "referral", None),
                 ("c1", "referral", day, day + pd.Timedelta(days=2), "assessment", f"need{i:02d}"),
                 ("c1", "assessment", day + pd.Timedelta(days=2), day + pd.Timedelta(days=30), "nfa", f"need{i:02d}")]
    ws = write_episodes(rows)
    got = run(ws, load_map("england"))
    assert len(got) == 30 * 4
    assert got.groupby("repeat").size().tolist() == [4] * 30
    assert got[got.station == "referral"]["repeat"].tolist() == list(range(1, 31))
    # the contact before each referral counts as that episode of need
    assert got[got.station == "contact"]["repeat"].tolist() == list(range(1, 31))


def test_stages_outside_the_map_are_dropped(write_episodes):
    ws = write_episodes([
        ("c1", "cp_plan", "2024-01-01", "2024-02-01", "looked_after", "n1"),
        ("c1", "looked_after", "2024-02-01", "2024-05-01", "returned_home", "n1"),
    ])
    got = run(ws, load_map("front_door"))
    assert got["station"].tolist() == ["cp_plan"]


def test_where_filters_children(write_episodes):
    df = random_episodes(5, 20)
    kids = pd.DataFrame({"child_id": sorted(df.child_id.unique())})
    kids["sex"] = ["F" if i % 2 else "M" for i in range(len(kids))]
    kids["birth_month"] = pd.Timestamp("2015-01-01")
    ws = write_episodes(df, kids)
    all_rows = run(ws, "england")
    girls = ws.execute(timelines(ws, "england", where={"sex": "F"}))
    f_ids = set(kids[kids.sex == "F"].child_id)
    assert set(girls.child_id) == f_ids & set(all_rows.child_id)
    assert len(girls) == all_rows.child_id.isin(f_ids).sum()
    north = ws.execute(timelines(ws, "england", where={"team": ["North"], "repeat": "2+"}))
    assert (north.team == "North").all() and (north.repeat >= 2).all()
    assert len(north) == ((all_rows.team == "North") & (all_rows.repeat >= 2)).sum()


def test_event_log_fast_path_equals_the_general_engine(write_episodes):
    from cscflow.journeys.timeline import _build
    from cscflow.journeys.timeline_points import shape as _shape

    df = random_episodes(13, 40)
    df["end"] = df["start"]  # every stay zero-length, as in an event log; outcomes lead to exits
    df["outcome"] = df["outcome"].fillna("nfa")
    ws = write_episodes(df)
    pmap = load_map("england")
    assert _shape(ws, pmap)[:3] == (True, True, True)
    fast = run(ws, pmap)
    general = ws.execute(_build(ws, pmap, None, cache=False)).sort_values(["child_id", "seq"])
    compare(fast, general.reset_index(drop=True))
    compare(fast, naive_timeline(df, pmap))
    assert (fast.kind == "exit").sum() > 20 and fast.repeat.max() >= 3


def test_event_log_without_needs_or_exits_takes_the_lean_path(write_episodes):
    """A process log (no needs, no exit outcomes) skips the need ranks and exit rows: same rows as the general engine."""
    from cscflow.journeys.timeline import _build
    from cscflow.journeys.timeline_points import shape as _shape

    df = random_episodes(17, 40)
    df["end"] = df["start"]
    df["outcome"] = None
    df["need_id"] = None
    ws = write_episodes(df)
    pmap = load_map("england")
    assert _shape(ws, pmap)[:3] == (True, False, False)
    fast = run(ws, pmap)
    general = ws.execute(_build(ws, pmap, None, cache=False)).sort_values(["child_id", "seq"])
    compare(fast, general.reset_index(drop=True))
    compare(fast, naive_timeline(df, pmap))
    assert (fast.repeat == 1).all() and (fast.kind == "stay").all() and len(fast) > 100


def test_episodes_that_continue_are_one_stay(write_episodes):
    """SSDA903: a placement change ends an episode with X1 (outcome: it continues) and the next begins that day:
    one period of care, one stay in care, its end and exit the last episode's; a return to care after a gap is
    a stay of its own."""
    ws = write_episodes([
        ("c1", "looked_after", "2020-01-01", "2020-03-01", "looked_after", "n1", "North"),
        ("c1", "looked_after", "2020-03-01", "2020-06-01", "looked_after", "n1", "South"),
        ("c1", "looked_after", "2020-06-01", "2020-07-01", "returned_home", "n1", "South"),
        ("c1", "looked_after", "2020-09-01", None, None, "n1"),
        ("c2", "looked_after", "2020-01-01", "2020-02-01", "looked_after", "n2"),  # continues into nothing
        ("c2", "cp_plan", "2020-02-01", "2020-04-01", "closed", "n2"),
    ])
    got = run(ws, load_map("england"))
    c1 = got[got.child_id == "c1"]
    assert c1["station"].tolist() == ["looked_after", "returned_home", "looked_after"]
    assert c1["start"].tolist()[:2] == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-07-01")]
    assert c1["end"].iloc[0] == pd.Timestamp("2020-07-01") and pd.isna(c1["end"].iloc[-1])
    c2 = got[got.child_id == "c2"]
    assert c2["station"].tolist() == ["looked_after", "cp_plan", "closed"]
    compare(got, naive_timeline(ws.execute(ws.table("episodes")), load_map("england")))


@pytest.mark.parametrize("seed", [4, 5])
def test_continuing_stays_equal_the_reference(write_episodes, seed):
    df = random_episodes(seed)
    rng = np.random.default_rng(seed)
    # a third of the stays that end continue: outcome = their stage, the child's next stay there begins at the end
    extra = []
    for r in df[df["end"].notna()].sample(frac=0.33, random_state=seed).itertuples():
        df.loc[r.Index, "outcome"] = r.stage
        if rng.random() < 0.8:
            extra.append((r.child_id, r.stage, r.end, r.end + pd.Timedelta(days=int(rng.integers(0, 9))),
                          "nfa", r.need_id, r.team))
    more = episodes_frame(extra)
    more["episode_id"] = [f"x{i:05d}" for i in range(len(more))]
    more["source_row"] += len(df)
    ws = write_episodes(pd.concat([df, more], ignore_index=True))
    for name in ("england", "front_door"):
        pmap = load_map(name)
        compare(run(ws, pmap), naive_timeline(ws.execute(ws.table("episodes")), pmap))
