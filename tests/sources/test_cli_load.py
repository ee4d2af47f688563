"""`cscflow load` and `cscflow quality` end to end (real files, real workspace)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cscflow.cli import cli


def _run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_load_quality_json_and_reload(tmp_path, shared_data):
    ws = tmp_path / "ws"
    annex = shared_data / "sfdl-liia-tools/samples/Annex_A.xlsx"
    log = tmp_path / "events.csv"
    log.write_text("child_id,stage,start\n9212044,contact,2020-09-16\nX1,referral,31/02/2020\n")
    r = _run("load", ws, annex, log, "--la", "201")
    assert r.exit_code == 0, r.output
    assert "Annex_A.xlsx (annex-a): read 59, loaded 54, quarantined 5" in r.output
    q = json.loads(_run("quality", ws, "--json").output)
    assert [s["file"] for s in q["sources"]] == ["Annex_A.xlsx", "events.csv"]
    for s in q["sources"]:
        assert s["rows_read"] == s["rows_loaded"] + s["rows_quarantined"]
        for p in s["problems"]:
            assert {"problem", "count", "examples"} <= set(p)
    ev = q["sources"][1]
    assert ev["rows_read"] == 2 and ev["rows_quarantined"] == 1
    # the contact of child 9212044 on 16/09/2020 is also in Annex A list 1: loaded once
    assert {p["problem"]: p["count"] for p in ev["problems"]}["stay already loaded from another source"] == 1
    counts = json.loads(_run("info", ws, "--json").output)["rows"]
    assert _run("load", ws, annex, log).exit_code == 0
    assert json.loads(_run("info", ws, "--json").output)["rows"] == counts
    text = _run("quality", ws).output
    assert "adopter record not loaded" in text


@pytest.mark.parametrize("setup,args,msg", [
    (lambda d: (d / "e.csv").write_bytes(b""), ["e.csv"], "is empty"),
    (lambda d: (d / "h.csv").write_text("CHILD,DECOM,RNE\n1,01/01/2020,S\n"), ["h.csv", "--format", "cin"],
     "looks like a 903 file, not cin"),
    (lambda d: (d / "x.csv").write_text("a,b\n1,2\n"), ["x.csv"], "cannot tell the format"),
    (lambda d: (d / "t.xlsx").write_bytes(b"PK\x03\x04garbage"), ["t.xlsx"], "xlsx"),
    (lambda d: (d / "m.csv").write_text("child_id,stage\nC1,contact\n"), ["m.csv", "--format", "events"],
     "missing required column"),
    (lambda d: None, ["nope.csv"], "no such file"),
])
def test_bad_input_one_line_no_traceback(tmp_path, setup, args, msg):
    setup(tmp_path)
    r = CliRunner().invoke(cli, ["load", str(tmp_path / "ws"), *[str(tmp_path / a) if i == 0 else a
                                                                 for i, a in enumerate(args)]])
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    err_lines = [line for line in r.output.splitlines() if line.startswith("Error:")]
    assert len(err_lines) == 1 and msg in err_lines[0], r.output
    assert "Hint:" in r.output


def test_quality_on_empty_workspace(tmp_path):
    from cscflow import Workspace

    Workspace(tmp_path / "ws").close()
    r = _run("quality", tmp_path / "ws", "--json")
    assert json.loads(r.output)["sources"] == []


def test_a_folder_loads_what_it_can_read_and_names_what_it_cannot(tmp_path):
    """A folder of returns with something else beside them (the d2i validator's 903 folder holds two provider
    workbooks): the returns load, the other file is named as not loaded with why; named on its own, it is an
    error; a folder of nothing readable is an error too."""
    d = tmp_path / "returns"
    d.mkdir()
    (d / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n1,1,01/02/2010,WBRI,,,\n")
    (d / "episodes.csv").write_text("CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,"
                                    "HOME_POST,PL_POST,URN\n1,01/05/2020,S,C2,N1,U1,PR1,,,,,,\n")
    (d / "notes.csv").write_text("a,b\n1,2\n")
    r = _run("load", tmp_path / "ws", d, "--la", "201")
    assert r.exit_code == 0, r.output
    assert "episodes.csv (903): read 1, loaded 1" in r.output
    assert "notes.csv: not loaded: cannot tell the format" in r.output
    r = CliRunner().invoke(cli, ["load", str(tmp_path / "ws2"), str(d / "notes.csv")])
    assert r.exit_code == 1 and "Error: notes.csv: cannot tell the format" in r.output
    only = tmp_path / "other"
    only.mkdir()
    (only / "notes.csv").write_text("a,b\n1,2\n")
    r = CliRunner().invoke(cli, ["load", str(tmp_path / "ws3"), str(only)])
    assert r.exit_code == 1 and "no file cscflow can read was found (1 of unknown format)" in r.output
    assert "Traceback" not in r.output
