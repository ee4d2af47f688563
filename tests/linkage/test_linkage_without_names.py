"""Linkage on a workspace whose children carry no names (the returns have none; the demo county without its person
list): a clear error saying what to give, not Splink's 'math domain error' with a bug hint."""

from __future__ import annotations

from click.testing import CliRunner

from cscflow.cli import cli


def test_children_without_names_are_refused_with_what_to_do(small_county, tmp_path):
    out = small_county[4]
    ws = tmp_path / "ws"
    r = CliRunner().invoke(cli, ["load", str(ws), str(out / "synth" / "events.csv"),
                                 str(out / "synth" / "legal_proceedings.xlsx"), "--la", "886", "--quiet"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["link", str(ws)])
    assert r.exit_code == 1
    assert "has a name" in r.output and "--people FILE" in r.output and "bug" not in r.output
    people = small_county[3]
    r = CliRunner().invoke(cli, ["link", str(ws), "--people", str(people)])  # with the person list it links
    assert r.exit_code == 0, r.output
    assert " linked (" in r.output
