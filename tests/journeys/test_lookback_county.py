"""Look-backs on the synthetic county (``cscflow.synth``, preset ``county``), loaded from its event log
through ``cscflow.sources``: the data start is found where the county's history begins, the re-referral
trend is flat where the simulation's is (its re-referral probabilities do not change over time), and the
years whose look-back reaches before the data start are marked incomplete.

The county keeps ``history_years`` (3) of history before its reporting period: stays before that are
held only when their episode of need was still open then (a thin, length-biased tail back to 2002).
The truth: the parameters ``front_door.rereferral.within_12m`` (0.22) and ``within_36m`` (0.60), the
shares of referrals with a previous one within 12 and 36 months, constant over the years
(``tests/synth/test_recovery.py`` checks that the simulation meets them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cscflow.journeys import flow
from cscflow.journeys.lookback import source_starts, visible_from

pytestmark = pytest.mark.slow
SEED = 2024
Z = 4.0  # tolerance in standard errors


@pytest.fixture(scope="module")
def county_ws(tmp_path_factory):
    from cscflow import Workspace
    from cscflow.sources import load
    from cscflow.synth import simulate
    from cscflow.synth.truth import write_parquet
    from cscflow.synth.writers import events

    county = simulate("county", seed=SEED)
    out = tmp_path_factory.mktemp("county")
    log = events.frame(county)
    write_parquet(log[log["stage"].isin(["referral", "assessment", "cp_plan", "looked_after"])],
                  out / "events.parquet")
    ws = Workspace(out / "ws", la=county.la)
    load(ws, [out / "events.parquet"])
    yield ws, county
    ws.close()


def _history_start(county) -> pd.Timestamp:
    p = county.parameters
    return pd.Timestamp(p["start"]) - pd.Timedelta(days=int(p["history_years"] * 365.25))


def test_data_start_is_where_the_history_begins(county_ws):
    ws, county = county_ws
    cut = _history_start(county)
    first = pd.Timestamp(county.journeys.loc[county.journeys.stage == "referral", "start"].min())
    assert first < cut - pd.DateOffset(years=5)  # the earliest referral is far earlier: not the data start
    since = visible_from(ws, "referral")
    assert since == cut.to_period("M").start_time, (since, cut)
    assert source_starts(ws, "referral")["start"].tolist() == [since]


def _slope(years: pd.DataFrame, months: int) -> tuple[float, float]:
    """Weighted least-squares slope of the rate over the years and its standard error; each year's
    variance p(1-p)/n times a design effect of 1.5 (siblings are referred together: about 1.45
    children a family)."""
    p, n = years[f"rate_{months}"].to_numpy(), years["referrals"].to_numpy(float)
    w = n / (1.5 * p * (1 - p))
    x = np.arange(len(p), dtype=float)
    xm = (w * x).sum() / w.sum()
    slope = (w * (x - xm) * p).sum() / (w * (x - xm) ** 2).sum()
    return float(slope), float(np.sqrt(1 / (w * (x - xm) ** 2).sum()))


def test_rereferral_trend_is_flat_where_the_truth_is(county_ws):
    ws, county = county_ws
    rr = county.parameters["front_door"]["rereferral"]
    since = visible_from(ws, "referral")
    t = flow.rereferrals(ws, "england").set_index("year")
    years = t.drop("all")
    print(years.to_string())
    fy = years.index.str[:4].astype(int)
    # a year is complete when its 1 April, less the look-back, is on or after the data start
    assert years.complete_12.tolist() == [pd.Timestamp(y, 4, 1) - pd.DateOffset(months=12) >= since for y in fy]
    assert years.complete_36.tolist() == [pd.Timestamp(y, 4, 1) - pd.DateOffset(months=36) >= since for y in fy]
    for months, key, tol in ((12, "within_12m", 0.015), (36, "within_36m", 0.03)):
        done = years[years[f"complete_{months}"] & (years.referrals > 5000)]
        assert len(done) >= (6 if months == 12 else 4)
        rate = done[f"rate_{months}"]
        # flat: every complete year near the truth and near each other, no trend over the years
        assert (rate - rr[key]).abs().max() < tol, (months, rate.to_dict())
        assert rate.max() - rate.min() < tol, (months, rate.to_dict())
        slope, se = _slope(done, months)
        assert abs(slope) < Z * se, (months, slope, se)
        # with the incomplete years, the same test sees the false rising trend; those years are too low
        seen = years[years.referrals > 5000]
        slope, se = _slope(seen, months)
        assert slope > Z * se, (months, slope, se)
        early = years[~years[f"complete_{months}"]]
        assert (early[f"rate_{months}"] < rr[key] - tol).any()
        # the headline pools complete years only and lands on the truth
        assert t.loc["all", "complete"]
        assert abs(t.loc["all", f"rate_{months}"] - rr[key]) < tol / 2
    assert "2011-04-01" in t.attrs["method"]


def test_team_rereferral_counts_say_whether_their_look_back_is_complete(county_ws):
    from cscflow.analytics.ready import team_counts

    ws, _ = county_ws
    late, early = team_counts(ws, "rereferral", year=2017), team_counts(ws, "rereferral", year=2012)
    assert late["complete"].all() and late.attrs["complete"]
    assert not early["complete"].any() and not early.attrs["complete"]
    assert late["numerator"].sum() / late["denominator"].sum() > early["numerator"].sum() / early["denominator"].sum()
    # second or subsequent CP plans look back over the child's whole life: never complete here
    cp = team_counts(ws, "cp-repeat", year=2017)
    assert not cp.attrs["complete"] and "whole-life" in cp.attrs["method"]


def test_one_rereferral_definition_answers_the_flow_table_and_the_statistic(county_ws):
    """The flow table's re-referrals within 12 months and the teams' statistic count the same flags
    (journeys.flow.csc.referral_flags): per year, the teams' numerators and denominators add up to
    the table's row (every referral of the county names a team), and a longhand count in pandas from
    the episodes agrees with both."""
    from cscflow.analytics.ready import team_counts

    ws, _county = county_ws
    table = flow.rereferrals(ws).set_index("year")
    ref = ws.execute(ws.table("episodes").filter(lambda t: t.stage == "referral")
                     .select("child_id", "start", "team", "source_row"))
    assert ref["team"].notna().all()
    ref["day"] = pd.to_datetime(ref["start"]).dt.normalize()
    ref = ref.sort_values(["child_id", "start", "source_row"])
    prev = ref.groupby("child_id")["day"].shift()
    ref["within"] = prev.notna() & (prev >= ref["day"] - pd.DateOffset(months=12))
    ref["fy"] = ref["day"].dt.year - (ref["day"].dt.month < 4)
    years = [y for y in table.index if y != "all"][-4:]
    assert len(years) == 4
    for label in years:
        fy = int(label[:4])
        teams = team_counts(ws, "rereferral", fy + 1)
        hand = ref[ref["fy"] == fy]
        assert int(teams["denominator"].sum()) == int(table.loc[label, "referrals"]) == len(hand), label
        assert int(teams["numerator"].sum()) == int(table.loc[label, "within_12"]) == int(hand["within"].sum()), label
        assert bool(teams.attrs["complete"]) == bool(table.loc[label, "complete_12"])


def test_one_data_start_for_look_backs_and_survival(county_ws):
    """The survival analyses' window and the look-backs' data start are one definition
    (journeys.windows): on the county's event log both open where its history was cut (April 2011),
    not at the first date of the thin tail before it (2002)."""
    from cscflow.analytics.windows import source_windows

    ws, county = county_ws
    win = source_windows(ws)
    assert win["start"].tolist() == source_starts(ws)["start"].tolist() == [visible_from(ws, "referral")]
    first = pd.Timestamp(county.journeys["start"].min())
    assert first.year <= 2003 and win["start"].iloc[0] > first + pd.DateOffset(years=5)
    assert "full coverage" in win["basis"].iloc[0]


def test_the_cli_counts_from_the_observation_window_by_default(county_ws, tmp_path):
    """`cscflow flow` without --from counts from the observation window's first day (where the map opens), not
    from the thin tail of history back to 2002, and says so; --from reaches the history."""
    import json
    import shutil

    from click.testing import CliRunner

    from cscflow.cli import cli
    from cscflow.journeys.windows import observation_window

    ws, _ = county_ws
    window = observation_window(ws)
    path = tmp_path / "ws"  # a copy: the CLI opens read-only, the fixture holds the workspace open for writing
    shutil.copytree(ws.path, path)
    assert window is not None and window[0] > pd.Timestamp("2005-01-01")  # the history reaches back further
    r = CliRunner().invoke(cli, ["flow", str(path), "rereferrals", "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    years = [row["year"] for row in body["rows"] if row["year"] != "all"]
    first_fy = window[0].year - (window[0].month < 4)
    assert years[0] == f"{first_fy}-{str(first_fy + 1)[2:]}"
    assert any("the data's observation window" in line and "--from" in line for line in body["header"])
    want = flow.rereferrals(ws, start=window[0])
    assert [int(r["referrals"]) for r in body["rows"]] == want["referrals"].astype(int).tolist()
    r = CliRunner().invoke(cli, ["flow", str(path), "rereferrals", "--json", "--from", "2003-04-01"])
    early = [row["year"] for row in json.loads(r.output)["rows"]]
    assert early[0] < years[0]
