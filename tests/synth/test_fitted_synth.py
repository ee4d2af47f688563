"""Fitted synthetic data (``cscflow synth --from``) on a simulated county of 30,000 children: loaded as a new
workspace it reproduces the original's conversion, and it copies no child."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from cscflow import Workspace
from cscflow.cli import cli
from cscflow.forecast.stays import load_stays
from cscflow.synth.fidelity import conversion

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    from cscflow.synth import simulate
    from cscflow.synth.from_workspace import county_workspace
    from cscflow.synth.params import load_parameters

    root = tmp_path_factory.mktemp("fitted")
    p = load_parameters("tiny")
    p["population"]["children_0_17"] = 30000
    p["burn_in_years"] = 8
    county_workspace(simulate(p, seed=11), root / "original").close()
    r = CliRunner().invoke(cli, ["synth", "--from", str(root / "original"), "--seed", "5", "--out", str(root / "out"),
                                 "--formats", "events"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["load", str(root / "loaded"), str(root / "out" / "events.parquet"), "--la", "886"])
    assert r.exit_code == 0, r.output
    return root


def _stays(path):
    with Workspace(path, read_only=True) as ws:
        from cscflow.forecast.stays import observation_start

        stays, _, _ = load_stays(ws)
        return stays, observation_start(ws)


def test_conversion_within_3_points_for_transitions_of_500_cases(made):
    original, since = _stays(made / "original")
    loaded, _ = _stays(made / "loaded")
    end = original["start"].max()

    def conv(s):
        return conversion(s[(s["start"] >= since) & (s["start"] <= end)]).set_index(["station", "target"])

    o, s = conv(original), conv(loaded)
    big = o[o["n"] >= 500]
    assert len(big) >= 10, big
    rate_s = s["rate"].reindex(big.index).fillna(0.0)
    diff = (rate_s - big["rate"]).abs()
    assert diff.max() <= 3.0, diff.sort_values().tail()


def test_no_synthetic_child_copies_a_real_childs_birth_month_and_dated_journey(made):
    original, _ = _stays(made / "original")
    loaded, _ = _stays(made / "loaded")
    with Workspace(made / "original", read_only=True) as ws:
        born = ws.execute(ws.table("children").select("child_id", "birth_month")).set_index("child_id")["birth_month"]
    truth = pd.read_parquet(made / "out" / "truth" / "children.parquet").set_index("child_id")["birth_date"]

    def keys(stays, birth):
        s = stays.sort_values(["child_id", "start", "station"], kind="stable")
        s = s[s.groupby("child_id")["start"].transform("size") >= 3]
        steps = s["station"] + "@" + s["start"].dt.strftime("%Y-%m-%d")
        journey = steps.groupby(s["child_id"]).agg("|".join)
        month = pd.to_datetime(birth.reindex(journey.index)).dt.strftime("%Y-%m")
        return set(month + "#" + journey)

    # the loaded workspace's children are pseudonymised: their birth dates come from the synthetic truth by id
    with Workspace(made / "loaded", read_only=True) as ws:
        synthetic_birth = pd.Series(truth.to_numpy(), index=ws.pseudonymise(truth.index))
    real, synthetic = keys(original, born), keys(loaded, synthetic_birth)
    assert len(synthetic) > 1000
    assert not real & synthetic


def test_the_reports_are_written_disclosed(made):
    fid = pd.read_csv(made / "out" / "fidelity.csv", comment="#")
    assert {"conversion", "median days", "re-referral", "caseload", "characteristics"} <= set(fid["check"])
    priv = pd.read_csv(made / "out" / "privacy.csv", comment="#")
    copies = priv[priv["check"].str.startswith("copies") & (priv["group"] == "synthetic")]
    assert copies["matches"].astype(int).tolist() == [0]
    assert "Disclosure control" in (made / "out" / "fidelity.csv").read_text().split("\n", 5)[3]
