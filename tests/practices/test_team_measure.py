"""`cscflow stats WS teams --measure assessment-45wd` counts the practices rule's clocks (one source of truth):
from the referral, not the assessment's start."""

from __future__ import annotations

import pandas as pd
from test_clocks import _stay

from cscflow.analytics import run
from cscflow.analytics.ready import team_counts
from cscflow.practices import evaluate


def test_team_measure_is_the_practice(workspace):
    rows = []
    for i in range(6):
        team = "North" if i % 2 else "South"
        # referral Wed 6 Mar 2024; the 45th working day is Mon 13 May 2024 (see test_clocks)
        end = "2024-05-13" if i < 3 else "2024-05-14"
        rows += [_stay(f"c{i}", "referral", "2024-03-06", "2024-03-20", "assessment", team=team),
                 _stay(f"c{i}", "assessment", "2024-03-20", end, "nfa", team=team)]
    workspace.write("episodes", pd.DataFrame(rows))
    counts = team_counts(workspace, "assessment-45wd", year=2025).set_index("team")
    # from the assessment's start (20 Mar) all six were within 45 working days; from the referral, three
    assert counts["numerator"].to_dict() == {"North": 1, "South": 2}
    assert counts["denominator"].to_dict() == {"North": 3, "South": 3}
    clocks = evaluate(workspace, ["assessment-45wd"], as_of="2025-03-31")
    by_team = clocks.groupby("team")["status"].apply(lambda s: int((s == "met").sum())).to_dict()
    assert by_team == counts["numerator"].to_dict()
    assert "key practice assessment-45wd" in counts.attrs["method"]
    result = run(workspace, "teams", measure="assessment-45wd", year=2025)
    assert "key practice assessment-45wd" in result.method and "of the referral" in result.title


def test_cli_list_says_what_the_workspace_lacks(tmp_path):
    from click.testing import CliRunner

    from cscflow import Workspace
    from cscflow.cli import cli

    with Workspace(tmp_path / "ws", la="886") as ws:
        ws.write("episodes", pd.DataFrame([_stay("A", "looked_after", "2024-01-05", None)]))
    r = CliRunner().invoke(cli, ["practices", str(tmp_path / "ws"), "--list"])
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if line.strip().startswith("cla-review-20wd"))
    assert "False" in row and "no reviews of looked_after" in row
