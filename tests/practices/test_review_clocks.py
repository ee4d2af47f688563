"""Review clocks (CP review conferences, looked-after reviews, a care order without a review) against
independent counts.

* On the synthetic county (tiny, with more reviews held late than the default): the met / breached /
  open / overdue counts of ``cp-review-3m``, ``cp-review-6m``, ``cla-review-20wd``, ``cla-review-3m``,
  ``cla-review-6m`` and the children of ``care-order-no-review-6m`` equal a count made here straight from
  the files the synth wrote: the CIN census XML (lxml) and the SSDA903 CSV tables (csv), months with
  ``dateutil.relativedelta``, working days with numpy's business-day count and the ``holidays`` package
  (not cscflow's calendar, periods of care or review numbering).
* On hand-made stays and reviews: weekends and bank holidays, a review repeated in two returns, a stay
  that ended before its review was due, one that ended later without it, open and overdue clocks at
  the as-of date, periods of care made of several episodes, reviews before the data's first review.
"""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta
from test_clocks import _busdays, _census_children, _stay

from cscflow import Workspace
from cscflow.practices import evaluate

SEED = 11
STATUSES = ["met", "breached", "open", "overdue"]
REVIEW_RULES = ["cp-review-3m", "cp-review-6m", "cla-review-20wd", "cla-review-3m", "cla-review-6m"]
FAR = dt.date(9999, 12, 31)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    from cscflow.sources import load
    from cscflow.synth import synthesise

    out = tmp_path_factory.mktemp("county")
    params = {"population": {"children_0_17": 2000}, "burn_in_years": 4, "reviews": {"late_share": 0.3}}
    paths = synthesise(params, seed=SEED, out_dir=out / "files", formats=["cin", "903"])
    xml = sorted(p for p in paths if p.suffix == ".xml")
    tables = sorted(p for p in paths if "ssda903" in p.parts and p.suffix == ".csv")
    ws = Workspace(out / "ws", la="886")
    load(ws, xml + tables)
    clocks = evaluate(ws, [*REVIEW_RULES, "care-order-no-review-6m"])
    yield clocks, xml, tables
    ws.close()


# -- the independent count -----------------------------------------------------------------------
def _day(text: str | None, fmt: str = "%Y-%m-%d") -> dt.date | None:
    return dt.datetime.strptime(text.strip(), fmt).date() if text and text.strip() else None


def _cin(paths) -> tuple[list[tuple[str, dt.date, dt.date | None]], set[tuple[str, dt.date]]]:
    """CP plans (child, start, end: the earliest end any census gives) and reviews (child, date) of every census."""
    plans: dict[tuple[str, dt.date], dt.date] = {}
    reviews = set()
    for cid, child, q in _census_children(paths):
        for cp in child.iter(q("ChildProtectionPlans")):
            start, end = _day(cp.findtext(q("CPPstartDate"))), _day(cp.findtext(q("CPPendDate"))) or FAR
            plans[(cid, start)] = min(plans.get((cid, start), FAR), end)
            reviews |= {(cid, _day(r.text)) for r in cp.iter(q("CPPreviewDate"))}
    return [(c, s, None if e == FAR else e) for (c, s), e in plans.items()], reviews


def _rows(paths, name):
    for path in paths:
        if path.stem == name:
            with open(path, newline="", encoding="utf-8") as fh:
                yield from csv.DictReader(fh)


def _periods(paths) -> list[tuple[str, dt.date, dt.date | None, list[tuple[dt.date, dt.date | None, str]]]]:
    """Periods of care (child, start, end, episodes) from every year's Episodes table: an episode that
    starts after every earlier episode of the child ended begins a new period."""
    eps: dict[tuple[str, dt.date], tuple[dt.date, str]] = {}
    for r in _rows(paths, "Episodes"):
        key = (r["CHILD"], _day(r["DECOM"], "%d/%m/%Y"))
        end = _day(r["DEC"], "%d/%m/%Y") or FAR
        if key not in eps or end < eps[key][0]:
            eps[key] = (end, r["LS"])
    out: list = []
    for (child, start), (end, ls) in sorted(eps.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[1][0])):
        if out and out[-1][0] == child and out[-1][2] >= start:
            out[-1][2] = max(out[-1][2], end)
            out[-1][3].append((start, end, ls))
        else:
            out.append([child, start, end, [(start, end, ls)]])
    return [(c, s, None if e == FAR else e, e_list) for c, s, e, e_list in out]


def _status(start: dt.date, stop: dt.date | None, cut: dt.date | None, as_of: dt.date, limit) -> str | None:
    """met / breached / open / overdue, or None (no clock: the stay ended before the review was due).
    ``limit``: ('months', n) or ('wd', n)."""
    unit, n = limit
    stop = stop if stop is not None and stop <= as_of else None
    cut = cut if cut is not None and cut <= as_of else None
    if unit == "months":
        due = start + relativedelta(months=n)
        if stop is not None:
            return "met" if stop <= due else "breached"
        if cut is not None:
            return None if cut <= due else "breached"
        return "open" if as_of <= due else "overdue"
    end = stop or cut or as_of
    wd = int(_busdays([start.isoformat()], [end.isoformat()])[0])
    if stop is not None:
        return "met" if wd <= n else "breached"
    if cut is not None:
        return None if wd <= n else "breached"
    return "open" if wd <= n else "overdue"


def _review_counts(units, reviews, as_of, first_limit, next_limit, first_from: int, cov: dt.date,
                   number_all: bool) -> tuple[dict[str, int], dict[str, int]]:
    """(clocks from the start to the first review, clocks from review ``first_from`` on to the next)."""
    a, b = dict.fromkeys(STATUSES, 0), dict.fromkeys(STATUSES, 0)
    for child, start, end, _eps in units:
        if start > as_of:
            continue
        mine = sorted(d for c, d in reviews if c == child and start < d <= as_of and (end is None or d <= end))
        numbered = start >= cov
        if numbered:
            s = _status(start, mine[0] if mine else None, end, as_of, first_limit)
            if s:
                a[s] += 1
        if numbered or number_all:
            for i in range(first_from - 1, len(mine)):
                s = _status(mine[i], mine[i + 1] if i + 1 < len(mine) else None, end, as_of, next_limit)
                if s:
                    b[s] += 1
    return a, b


def _got(clocks: pd.DataFrame, rule: str) -> dict[str, int]:
    mine = clocks[clocks["rule"] == rule]
    return {s: int((mine["status"] == s).sum()) for s in STATUSES}


def test_cp_reviews_equal_the_xml(county):
    clocks, xml, _ = county
    as_of = clocks.attrs["as_of"]
    plans, reviews = _cin(xml)
    cov = min(d for _, d in reviews)
    units = [(c, s, e, []) for c, s, e in plans]
    first, later = _review_counts(units, reviews, as_of, ("months", 3), ("months", 6), 1, cov, number_all=True)
    assert _got(clocks, "cp-review-3m") == first
    assert _got(clocks, "cp-review-6m") == later
    assert first["met"] > 0 and first["breached"] > 0 and later["breached"] > 0 and later["open"] > 0


def test_cla_reviews_equal_the_903_tables(county):
    clocks, _, tables = county
    as_of = clocks.attrs["as_of"]
    periods = _periods(tables)
    reviews = {(r["CHILD"], _day(r["REVIEW"], "%d/%m/%Y")) for r in _rows(tables, "Reviews")}
    cov = min(d for _, d in reviews)
    first, _ = _review_counts(periods, reviews, as_of, ("wd", 20), ("months", 3), 1, cov, number_all=False)
    # cla-review-3m: the first review's clock (to the second); cla-review-6m: one from each later review
    second = dict.fromkeys(STATUSES, 0)
    later = dict.fromkeys(STATUSES, 0)
    for child, start, end, _eps in periods:
        if start < cov or start > as_of:
            continue
        mine = sorted(d for c, d in reviews if c == child and start < d <= as_of and (end is None or d <= end))
        for i, r in enumerate(mine):
            nxt = mine[i + 1] if i + 1 < len(mine) else None
            s = _status(r, nxt, end, as_of, ("months", 3) if i == 0 else ("months", 6))
            if s:
                (second if i == 0 else later)[s] += 1
    assert _got(clocks, "cla-review-20wd") == first
    assert _got(clocks, "cla-review-3m") == second
    assert _got(clocks, "cla-review-6m") == later
    assert first["met"] > 0 and first["breached"] > 0 and second["breached"] + later["breached"] > 0


def test_care_order_without_review_equals_the_903_tables(county):
    clocks, _, tables = county
    as_of = clocks.attrs["as_of"]
    periods = _periods(tables)
    reviews = {(r["CHILD"], _day(r["REVIEW"], "%d/%m/%Y")) for r in _rows(tables, "Reviews")}
    want = []
    for child, start, end, eps in periods:
        if start > as_of or (end is not None and end <= as_of):
            continue
        if not any(ls == "C2" and s <= as_of and e > as_of for s, e, ls in eps):
            continue
        last = max([d for c, d in reviews if c == child and start < d <= as_of], default=start)
        if last + relativedelta(months=6) < as_of:
            want.append(last)
    got = clocks[clocks["rule"] == "care-order-no-review-6m"]
    assert sorted(got["start"].dt.date) == sorted(want)
    assert (got["status"] == "breached").all()


def test_county_review_clocks_are_pseudonymised(county):
    clocks, _, _ = county
    assert clocks["child_id"].str.fullmatch(r"[0-9a-f]{20}").all()
    assert set(REVIEW_RULES) <= set(clocks["rule"])


# -- hand-made ---------------------------------------------------------------------------------------
def _review(child, stage, date, source="test"):
    return {"review_id": f"{child}-{stage}-{date}-{source}", "child_id": child, "stage": stage,
            "date": pd.Timestamp(date).date(), "code": None, "attrs": None, "source": source, "source_row": 1}


def _write(ws, stays, reviews, kids=None):
    ws.write("episodes", pd.DataFrame(stays), mode="replace")
    ws.write("reviews", pd.DataFrame(reviews), mode="replace")
    if kids is not None:
        ws.write("children", kids, mode="replace")


def hand_data():
    """Stays and reviews with their answers worked out in the comments (as of Fri 30 Aug 2024)."""
    stays = [
        # A: in care from Fri 15 Dec 2023. 20 working days skip 25, 26 Dec and 1 Jan:
        # 18-22 Dec (5), 27-29 Dec (8), 2-5 Jan (12), 8-12 Jan (17), 15-17 Jan (20): due Wed 17 Jan 2024
        _stay("A", "looked_after", "2023-12-15", "2024-01-05", legal_status="C2"),
        _stay("A", "looked_after", "2024-01-05", None, legal_status="C2"),  # the same period (no gap)
        # B: in care Fri 15 Dec 2023, first review Thu 18 Jan 2024: 21 working days, breached
        _stay("B", "looked_after", "2023-12-15", None, legal_status="C2"),
        # C: in care Mon 1 Jul 2024, left Fri 19 Jul 2024 (before day 20): no clock
        _stay("C", "looked_after", "2024-07-01", "2024-07-19"),
        # D: in care Mon 1 Jul 2024, left Fri 2 Aug (day 24) without a review: breached
        _stay("D", "looked_after", "2024-07-01", "2024-08-02"),
        # E: in care Mon 12 Aug 2024, no review yet: open at Fri 30 Aug (day 13; bank holiday 26 Aug)
        _stay("E", "looked_after", "2024-08-12", None),
        # F: in care before the first review loaded (1 Dec 2023): its reviews' numbers are unknown
        _stay("F", "looked_after", "2023-06-01", None, legal_status="C2"),
        # G: a CP plan from Wed 31 Jan 2024: first review due 30 Apr (month end clipped); held 30 Apr: met;
        # next due 30 Oct, not yet: open. H: plan from 31 Jan, no review by 30 Aug: overdue
        _stay("G", "cp_plan", "2024-01-31", None),
        _stay("H", "cp_plan", "2024-01-31", None),
        # K: a plan from 2 Oct 2023 reviewed on 2 Jan 2024, the first CP review loaded: K's review number
        # is unknown (no cp-review-3m clock) but its 6-month clock runs: due 2 Jul, overdue at 30 Aug
        _stay("K", "cp_plan", "2023-10-02", None),
    ]
    reviews = [
        _review("F", "looked_after", "2023-12-01"),
        _review("A", "looked_after", "2024-01-17"), _review("A", "looked_after", "2024-01-17", "again"),
        _review("A", "looked_after", "2024-04-17"),  # 3 months after the first: met
        _review("B", "looked_after", "2024-01-18"),
        _review("B", "looked_after", "2024-04-19"),  # 3 months and 1 day: breached
        _review("K", "cp_plan", "2024-01-02"),
        _review("G", "cp_plan", "2024-04-30"),
        _review("G", "cp_plan", "2024-09-02"),  # after the as-of date: not yet known
    ]
    return stays, reviews


def test_hand_made_review_clocks(workspace):
    stays, reviews = hand_data()
    kids = pd.DataFrame({"child_id": list("ABCDEFGH"), "la": "886"})
    _write(workspace, stays, reviews, kids)
    c = evaluate(workspace, REVIEW_RULES + ["care-order-no-review-6m"], as_of="2024-08-30")
    first = c[c.rule == "cla-review-20wd"].set_index("child_id")
    assert sorted(first.index) == ["A", "B", "D", "E"]  # C left in time, F started before the reviews
    assert first.loc["A", "due"] == pd.Timestamp("2024-01-17")
    assert first["status"].to_dict() == {"A": "met", "B": "breached", "D": "breached", "E": "open"}
    assert first["working_days"].to_dict() == {"A": 20, "B": 21, "D": 24, "E": 13}
    assert pd.isna(first.loc["D", "stop"])
    second = c[c.rule == "cla-review-3m"].set_index("child_id")["status"].to_dict()
    assert second == {"A": "met", "B": "breached"}
    # A's second review (17 Apr) starts the 6-month clock: due 17 Oct, open; B's (19 Apr): open
    later = c[c.rule == "cla-review-6m"].set_index("child_id")["status"].to_dict()
    assert later == {"A": "open", "B": "open"}
    cp3 = c[c.rule == "cp-review-3m"].set_index("child_id")
    assert cp3["status"].to_dict() == {"G": "met", "H": "overdue"}
    assert cp3.loc["G", "due"] == pd.Timestamp("2024-04-30")
    cp6 = c[c.rule == "cp-review-6m"].set_index("child_id")
    assert cp6["status"].to_dict() == {"G": "open", "K": "overdue"} and pd.isna(cp6.loc["G", "stop"])
    # on a care order at 30 Aug: A (last review 17 Apr), B (19 Apr): within 6 months; F (1 Dec 2023): not
    never = c[c.rule == "care-order-no-review-6m"]
    assert never["child_id"].tolist() == ["F"]
    assert never["start"].iloc[0] == pd.Timestamp("2023-12-01") and never["due"].iloc[0] == pd.Timestamp("2024-06-01")


def test_no_reviews_loaded_says_why(workspace):
    stays, _ = hand_data()
    workspace.write("episodes", pd.DataFrame(stays))
    c = evaluate(workspace, REVIEW_RULES + ["care-order-no-review-6m"], as_of="2024-08-30")
    assert c.empty
    why = c.attrs["unavailable"]
    assert "SSDA903 Reviews" in why["cla-review-20wd"] and "CPPreviewDate" in why["cp-review-3m"]
    # reviews loaded, but they start less than 6 months before the as-of date: a care order's gap is unseen
    workspace.write("reviews", pd.DataFrame([_review("A", "looked_after", "2024-05-01")]))
    c = evaluate(workspace, ["care-order-no-review-6m"], as_of="2024-08-30")
    assert "2024-05-01" in c.attrs["unavailable"]["care-order-no-review-6m"]
