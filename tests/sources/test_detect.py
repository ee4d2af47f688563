"""Format detection and refusing files given as the wrong format."""

from __future__ import annotations

import shutil

import pytest

from cscflow.errors import SourceError
from cscflow.sources.detect import check_format, detect_format


def test_shared_fixtures_detected(shared_data):
    d = shared_data
    assert detect_format(d / "sfdl-liia-tools/samples/Annex_A.xlsx") == "annex-a"
    assert detect_format(d / "sfdl-liia-tools/samples/cin-2022.xml") == "cin"
    assert detect_format(d / "sfdl-csc-data-synthesizer/generated_903.xml") == "903"
    for name in ("episodes", "header", "reviews", "oc3", "uasc", "missing", "sw_episodes"):
        assert detect_format(d / f"d2i-csc-validator-be-903/fake_data/{name}.csv") == "903", name


def test_events_and_legal(tmp_path):
    (tmp_path / "log.csv").write_text("child_id,stage,start,end\nC1,referral,2020-01-01,\n")
    assert detect_format(tmp_path / "log.csv") == "events"
    (tmp_path / "legal.csv").write_text("Case No,Child Name,Date Issued,Final Order,Court\nZ1,A B,01/01/2020,,X\n")
    assert detect_format(tmp_path / "legal.csv") == "legal"
    (tmp_path / "List 3.csv").write_text("Child Unique ID,Date of Referral\n1,01/01/2020\n")
    assert detect_format(tmp_path / "List 3.csv") == "annex-a"


def test_903_given_as_cin_refused(shared_data, tmp_path):
    with pytest.raises(SourceError, match="looks like a 903 file, not cin"):
        check_format(shared_data / "d2i-csc-validator-be-903/fake_data/episodes.csv", "cin")
    with pytest.raises(SourceError, match="looks like a cin file, not 903"):
        check_format(shared_data / "sfdl-liia-tools/samples/cin-2022.xml", "903")


@pytest.mark.parametrize("name,data,msg", [
    ("empty.csv", b"", "is empty"),
    ("trunc.xlsx", None, "not a readable xlsx"),
    ("weird.xml", b"<?xml version='1.0'?><Foo/>", "neither a CIN census nor an SSDA903"),
    ("notes.csv", b"colour,size\nred,3\n", "cannot tell the format"),
    ("old.xls", b"\xd0\xcf\x11\xe0", "old Excel"),
])
def test_bad_files_one_line_errors(tmp_path, shared_data, name, data, msg):
    p = tmp_path / name
    if data is None:
        src = (shared_data / "sfdl-liia-tools/samples/Annex_A.xlsx").read_bytes()
        p.write_bytes(src[: len(src) // 2])
    else:
        p.write_bytes(data)
    with pytest.raises(SourceError, match=msg) as err:
        detect_format(p)
    assert "\n" not in str(err.value) and err.value.hint


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        detect_format(tmp_path / "nope.csv")
    shutil.rmtree(tmp_path)


def test_auto_detects_a_gzipped_event_log_and_refuses_other_gzips(tmp_path):
    import gzip

    log = tmp_path / "log.csv.gz"
    with gzip.open(log, "wt", encoding="utf-8") as fh:
        fh.write("child_id,stage,start\nC1,referral,2020-01-02\n")
    assert detect_format(log) == "events"
    pm4py = tmp_path / "process.csv.gz"
    with gzip.open(pm4py, "wt", encoding="utf-8") as fh:
        fh.write("case:concept:name,concept:name,time:timestamp\nA1,A_SUBMITTED,2012-01-02 10:00:00\n")
    assert detect_format(pm4py) == "events"
    episodes = tmp_path / "episodes.csv.gz"
    with gzip.open(episodes, "wt", encoding="utf-8") as fh:
        fh.write("CHILD,SEX,DOB,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,REC,REASON_PLACE_CHANGE,DEC\n")
    with pytest.raises(SourceError, match="compressed 903 file") as err:
        detect_format(episodes)
    assert "unzip it first" in err.value.hint
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(SourceError, match="not a readable gzip file"):
        detect_format(broken)
