"""The report honours ``--where`` in every section (issue 17): the statistics and timescales are computed on a
workspace of the cohort's children (cscflow.report.cohort), and each section says the filter."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def opened(tiny_ws):
    from cscflow.workspace import Workspace

    with Workspace(tiny_ws, read_only=True) as ws:
        yield ws


def test_cohort_workspace_holds_the_cohort_children_only(opened):
    from cscflow.journeys.maps import load_map
    from cscflow.report.cohort import cohort_workspace

    ws = opened
    with cohort_workspace(ws, load_map("england", ws), {"sex": "F"}) as sub:
        kids = sub.execute(sub.table("children"))
        assert len(kids) and set(kids["sex"]) == {"F"}
        every_f = ws.execute(ws.table("children").filter(ws.table("children").sex == "F").child_id)
        assert set(kids["child_id"]) <= set(every_f) and len(kids) >= 0.9 * len(every_f)
        ep = sub.execute(sub.table("episodes"))
        assert set(ep["child_id"]) <= set(kids["child_id"])
        full = ws.table("episodes")
        assert len(ep) == ws.execute(full.filter(full.child_id.isin(list(kids["child_id"]))).count())
        assert sub.count("identifiers") == 0               # never copied (restricted)
        path = sub.path
    assert not path.exists()                              # the copy is removed


def test_statistics_follow_the_cohort(opened):
    from cscflow.analytics import run
    from cscflow.journeys.maps import load_map
    from cscflow.report.cohort import cohort_workspace

    ws = opened
    everyone = run(ws, "leaving-care").summary
    with cohort_workspace(ws, load_map("england", ws), {"sex": "F"}) as sub:
        girls = run(sub, "leaving-care").summary
        periods = run(sub, "leaving-care").table
    assert 0 < int(girls["children"].sum()) < int(everyone["children"].sum())
    assert len(periods)


def test_every_section_says_the_filter(opened):
    from cscflow.report import Options, report_html

    html = report_html(opened, Options(where={"sex": ["F"]}, sections=("summary", "stats", "timescales", "linkage")))
    assert "Cohort: sex=F (every section)" in html
    assert html.count("Cohort sex=F:") == 4
    assert "the statistics are computed on the children with at least one stay" in html
    assert "not applied: the linkage quality covers every care-proceedings row" in html
