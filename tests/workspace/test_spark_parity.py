"""The same Ibis expressions give identical results on DuckDB and on a local PySpark session."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from cscflow.model import STAGES

pytestmark = pytest.mark.spark


def _episodes(n_children: int = 60, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_children):
        t = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
        for k in range(int(rng.integers(1, 6))):
            length = int(rng.integers(0, 40))
            end = t + pd.Timedelta(days=length)
            open_ = k > 2 and rng.random() < 0.3
            rows.append(
                {"episode_id": f"e{c}-{k}", "child_id": f"c{c:03d}", "stage": str(rng.choice(STAGES)),
                 "start": t, "end": None if open_ else end, "source": "test", "source_row": len(rows) + 1}
            )
            t = end + pd.Timedelta(days=int(rng.integers(0, 10)))
            if open_:
                break
    return pd.DataFrame(rows)


def transitions(ep: ibis.Table) -> ibis.Table:
    """Per-child ordered stage transitions (window functions) counted with their mean gap."""
    w = ibis.window(group_by=ep.child_id, order_by=[ep.start, ep.source_row])
    t = ep.mutate(
        next_stage=ep.stage.lead().over(w),
        next_start=ep.start.lead().over(w),
        step=ibis.row_number().over(w),
    )
    t = t.filter(t.next_stage.notnull())
    t = t.mutate(gap_days=t.next_start.delta(t.start, unit="day"))
    return t.group_by(["stage", "next_stage"]).aggregate(
        n=t.count(), children=t.child_id.nunique(), mean_gap=t.gap_days.mean(), first_step=t.step.min()
    )


def open_per_day(ep: ibis.Table, cal: ibis.Table, first: str, last: str) -> ibis.Table:
    """Episodes open on each day of a range, per stage (a range join on a date spine)."""
    days = cal.filter(cal.date.between(ibis.date(first), ibis.date(last))).select("date")
    e = ep.mutate(s=ep.start.cast("date"), e=ep.end.cast("date"))
    j = days.join(e, (e.s <= days.date) & (e.e.isnull() | (days.date < e.e)))
    return j.group_by(["date", "stage"]).aggregate(open=j.count())


def _run_both(workspace, spark_workspace, build):
    frame = _episodes()
    ids = workspace.pseudonymise(frame.child_id)
    frame = frame.assign(child_id=ids)
    out = []
    for ws in (workspace, spark_workspace):
        ws.write("episodes", frame, mode="replace")
        expr = build(ws)
        cols = list(expr.columns)
        out.append(ws.execute(expr).sort_values(cols[:2]).reset_index(drop=True))
    return out


def test_transitions_identical(workspace, spark_workspace):
    duck, spark = _run_both(workspace, spark_workspace, lambda ws: transitions(ws.table("episodes")))
    assert len(duck) > 20
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False)


def test_open_episodes_per_day_identical(workspace, spark_workspace):
    duck, spark = _run_both(
        workspace, spark_workspace,
        lambda ws: open_per_day(ws.table("episodes"), ws.calendar(), "2020-02-01", "2020-06-30"),
    )
    assert duck["open"].sum() > 100
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False)
    # and both agree with a plain pandas count for one day
    frame = _episodes()
    day = pd.Timestamp("2020-03-15")
    naive = frame[(frame.start.dt.normalize() <= day) & (frame.end.isna() | (day < frame.end.dt.normalize()))]
    got = duck[duck.date.astype("datetime64[ns]") == day].set_index("stage")["open"].to_dict()
    assert got == naive.groupby("stage").size().to_dict()
