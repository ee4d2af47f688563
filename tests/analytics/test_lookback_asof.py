"""``as_of`` and the data start in the re-referral and referral-to-X analyses, on a real DuckDB
workspace with hand-built referrals: nothing after ``as_of`` is seen (referrals begun after it
dropped, events after it censored at it), and referrals begun before the data start are not
followed. The expected durations are worked out by hand; the estimator is the project's
Kaplan-Meier (checked against lifelines in tests/analytics/test_survival.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cscflow.analytics import ready, run
from cscflow.analytics.survival import KaplanMeier

AS_OF = "2021-12-31"


def _ep(child, stage, start, end=None, outcome=None):
    return {"episode_id": f"{child}-{stage}-{start}", "child_id": child, "stage": stage,
            "start": pd.Timestamp(start), "end": pd.Timestamp(end) if end else pd.NaT, "outcome": outcome,
            "attrs": json.dumps({}), "source": "test", "team": "T1"}


@pytest.fixture
def ws(workspace):
    workspace.write("episodes", pd.DataFrame([
        _ep("d", "referral", "2021-01-01", "2021-01-02", "assessment"),
        _ep("d", "referral", "2021-04-11", "2021-04-12", "nfa"),       # 100 days after d's first
        _ep("d", "referral", "2022-06-01", "2022-06-01", "nfa"),       # after as_of: not seen
        _ep("e", "referral", "2021-05-01", "2021-05-01", "assessment"),
        _ep("e", "cp_plan", "2021-09-01", None, None),                  # 123 days after e's referral
        _ep("f", "referral", "2021-12-01", "2021-12-01", "assessment"),
        _ep("f", "cp_plan", "2022-02-01", None, None),                  # after as_of: censored
        _ep("f", "looked_after", "2022-01-15", None, None),
        _ep("g", "referral", "2022-03-01", "2022-03-01", "nfa"),       # begun after as_of: dropped
    ]))
    return workspace


def _same(km, durations, events):
    ref = KaplanMeier().fit(durations, events)
    t = np.arange(0, 400)
    assert np.allclose(km.survival_at(t), ref.survival_at(t))
    assert km.event_table_["observed"].sum() == sum(events)
    assert km.event_table_["removed"].sum() == len(durations)


def test_as_of_restricts_time_to_rereferral(ws):
    km = ready.time_to_rereferral(ws, as_of=AS_OF)
    # d1 -> d2: 100 days (event); d2: next referral after as_of, censored at 264; e 244; f 30; g not seen
    _same(km, [100, 264, 244, 30], [1, 0, 0, 0])
    assert "2021-12-31" in km.method_
    # a later as_of sees d's third referral and g
    later = ready.time_to_rereferral(ws, as_of="2022-12-31")
    _same(later, [100, 416, 213, 609, 395, 305], [1, 1, 0, 0, 0, 0])


def test_as_of_restricts_referral_to_cp_plan_and_care(ws):
    cp = ready.referral_to(ws, "cp_plan", as_of=AS_OF)
    # d1: censored at d2 (100); d2: censored at as_of (264); e: CP plan after 123 days; f: plan after as_of (30)
    _same(cp, [100, 264, 123, 30], [0, 0, 1, 0])
    care = ready.referral_to(ws, "looked_after", as_of=AS_OF)
    _same(care, [100, 264, 244, 30], [0, 0, 0, 0])
    care = ready.referral_to(ws, "looked_after", as_of="2022-01-31")
    _same(care, [100, 295, 275, 45], [0, 0, 0, 1])  # f entered care on day 45; g begins after
    # the CLI/web runner passes as_of through
    assert run(ws, "referral-to-cp", as_of=AS_OF).table["events"].sum() == 1


def test_referrals_before_the_data_start_are_not_followed(ws):
    km = ready.time_to_rereferral(ws, as_of=AS_OF, data_start="2021-03-01")
    _same(km, [264, 244, 30], [0, 0, 0])
    assert "1 referrals begun before the data start" in km.method_
