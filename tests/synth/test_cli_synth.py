"""`cscflow synth` end to end: files written, byte-identical per seed, clear errors."""

from __future__ import annotations

import hashlib

import pandas as pd
from click.testing import CliRunner

from cscflow.cli import cli
from cscflow.synth import writers


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_synth_events_byte_identical(tmp_path):
    runner = CliRunner()
    for name in ("a", "b"):
        res = runner.invoke(cli, ["synth", "--preset", "tiny", "--seed", "5", "--out", str(tmp_path / name),
                                  "--formats", "events"])
        assert res.exit_code == 0, res.output
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert set(a) == {"events.parquet", "events.csv", "truth/parameters.yaml", "truth/children.parquet",
                      "truth/journeys.parquet", "truth/proceedings.parquet", "truth/events.csv"}
    assert a == b
    # the event log holds the truth's stays
    ev = pd.read_parquet(tmp_path / "a" / "events.parquet")
    tj = pd.read_parquet(tmp_path / "a" / "truth" / "journeys.parquet")
    assert len(ev) == len(tj) and (ev["stage"].to_numpy() == tj["stage"].to_numpy()).all()
    csv = pd.read_csv(tmp_path / "a" / "events.csv")
    assert len(csv) == len(ev) and list(csv.columns)[:3] == ["child_id", "need_id", "stage"]


def test_unknown_format_is_one_line_error(tmp_path):
    res = CliRunner().invoke(cli, ["synth", "--preset", "tiny", "--out", str(tmp_path), "--formats", "pdf"])
    assert res.exit_code == 1
    assert "unknown format 'pdf'" in res.output and "Traceback" not in res.output


def test_every_format_has_its_writer():
    """Each writer ships with the package (no probe for missing ones): every format's ``write`` is there."""
    assert writers.available() == list(writers.FORMATS)
    for fmt, module in writers.FORMATS.items():
        write = writers.writer(fmt)
        assert callable(write) and write.__module__ == f"cscflow.synth.writers.{module}", fmt


def test_demo_builds_loads_and_reuses(tmp_path):
    """`cscflow demo --no-serve` on the tiny preset: files, a loaded workspace, then the cache."""
    import json

    from cscflow import Workspace

    runner = CliRunner()
    args = ["demo", "--no-serve", "--preset", "tiny", "--seed", "3", "--out", str(tmp_path / "d"), "--load", "events"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[res.output.index("{"):])
    truth = pd.read_parquet(tmp_path / "d" / "files" / "truth" / "journeys.parquet")
    assert summary["rows"]["episodes"] == len(truth)
    assert summary["rows"]["events"] == 2  # the dated markers (inspection, arrivals surge)
    with Workspace(tmp_path / "d" / "workspace", read_only=True) as ws:
        stages = ws.execute(ws.table("episodes").stage.value_counts())
    assert dict(zip(stages.iloc[:, 0], stages.iloc[:, 1], strict=True)) == truth["stage"].value_counts().to_dict()
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "using the demo county" in again.output


def test_demo_loads_every_format_by_default_so_children_have_characteristics(tmp_path):
    from cscflow import Workspace

    res = CliRunner().invoke(cli, ["demo", "--no-serve", "--preset", "tiny", "--seed", "3", "--out", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    truth = pd.read_parquet(tmp_path / "d" / "files" / "truth" / "children.parquet")
    with Workspace(tmp_path / "d" / "workspace", read_only=True) as ws:
        children = ws.execute(ws.table("children"))
        ep = ws.table("episodes")
        sources = set(ws.execute(ep.source.value_counts()).iloc[:, 0])
        in_returns = ep.filter((ep.stage == "referral") & (ep.source != "events.parquet"))
        referred = set(ws.execute(in_returns.select("child_id"))["child_id"])
        # the legal sheet linked through the case system's person list (people.csv), checked against the truth
        links = ws.execute(ws.table("links"))
        want = pd.read_csv(tmp_path / "d" / "files" / "truth" / "proceedings_links.csv", dtype=str, keep_default_na=False)
        want = want[want["child_id"] != ""]
        true_child = dict(zip(want["row"].astype(int), ws.pseudonymise(want["child_id"].tolist()), strict=True))
    row = links["proceedings_id"].str.rsplit("-", n=1).str[1].astype(int)
    right = (links["child_id"].to_numpy() == row.map(true_child).to_numpy()).sum()
    assert len(links) >= 0.9 * len(want) and right / len(links) >= 0.99, (len(links), len(want), right)
    assert "linked the care-proceedings sheet" in res.output
    assert len(children) == len(truth)
    # children referred in a return have their characteristics (an event log carries none)
    known = children[children.child_id.isin(referred)]
    assert len(known) > 100 and known["sex"].isin(["M", "F"]).mean() > 0.95
    assert {"annex_a.xlsx", "events.parquet"} <= sources and any(s.startswith("cin_census_") for s in sources)
