"""Event logs: CSV and Parquet, mappings (incl. the SSD tables), bad rows, encodings."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cscflow.errors import SourceError
from cscflow.sources import events, load


def _read(path, **kw):
    r = events.read([path], **kw)[0]
    r.check_accounted()
    return r


def test_parquet_with_timestamps_and_attrs(tmp_path):
    t = pa.table({
        "child_id": ["C1", "C1", "C2"],
        "stage": ["contact", "referral", "s47"],
        "start": pa.array([dt.datetime(2020, 1, 1, 9, 30), dt.datetime(2020, 1, 2), dt.datetime(2020, 2, 1)]),
        "end": pa.array([dt.datetime(2020, 1, 1, 9, 30), None, dt.datetime(2020, 2, 10)]),
        "outcome": ["referral", None, "nfa"],
        "team": ["Front Door", "Front Door", "North"],
        "priority": [1, 2, 3],
    })
    pq.write_table(t, tmp_path / "e.parquet")
    r = _read(tmp_path / "e.parquet")
    ep = r.episodes.to_pandas()
    assert ep.start.tolist() == [pd.Timestamp("2020-01-01 09:30"), pd.Timestamp("2020-01-02"),
                                 pd.Timestamp("2020-02-01")]
    assert ep.end.isna().tolist() == [False, True, False]
    assert [json.loads(a)["priority"] for a in ep["attrs"]] == [1, 2, 3]
    assert ep.source_row.tolist() == [1, 2, 3]


def test_csv_bad_rows_each_accounted(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text(
        "child_id,stage,start,end,outcome\n"
        "C1,Referral,16/09/2020,,\n"          # 1 ok (stage case)
        "C1,Section 47,2020-09-17,2020-09-20,nfa\n"  # 2 ok (alias)
        ",contact,2020-09-17,,\n"            # 3 missing id
        "C2,tea break,2020-09-17,,\n"        # 4 unknown stage
        "C2,contact,yesterday,,\n"           # 5 bad start
        "C2,contact,2020-09-17,soon,\n"      # 6 bad end
        "C2,contact,2999-01-01,,\n"          # 7 future
        "C1,Referral,16/09/2020,,\n"         # 8 duplicate of 1
        "C3,contact,2020-09-17,,,,extra\n"   # 9 malformed (too many cells)
        "C3,contact,44093,,\n"               # 10 ok (Excel serial)
    )
    r = _read(p)
    assert r.rows_read == 10 and r.rows_loaded == 3
    q = r.quarantine.groupby("source_row")["problem"].first().to_dict()
    assert q == {3: "missing child id", 4: "unknown stage", 5: "start is not a date", 6: "end is not a date",
                 7: "future date", 8: "duplicate row", 9: "malformed row: too many columns"}
    ep = r.episodes.to_pandas()
    assert ep.stage.tolist() == ["referral", "s47", "contact"]
    assert ep.source_row.tolist() == [1, 2, 10]  # numbering survives the rejected row
    assert ep.start.iloc[2] == pd.Timestamp("2020-09-19")  # Excel serial 44093


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_encodings(tmp_path, encoding):
    p = tmp_path / "log.csv"
    p.write_bytes("child_id,stage,start,note\nC1,contact,2020-01-01,Café Zoë\n".encode(encoding))
    r = _read(p)
    assert json.loads(r.episodes.column("attrs")[0].as_py())["note"] == "Café Zoë"


def test_missing_columns_message(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("person,stag,when\nC1,contact,2020-01-01\n")
    with pytest.raises(SourceError) as err:
        events.read([p])
    assert "missing required column" in str(err.value) and "columns found: 'person', 'stag', 'when'" in str(err.value)


def test_mapping_file_renames(tmp_path):
    p = tmp_path / "cms.csv"
    p.write_text("PersonRef,Activity,ActDate,Closed\n9,CP Plan,01/03/2021,01/09/2021\n9,Early Help,02/01/2021,\n")
    m = tmp_path / "map.yaml"
    m.write_text("columns: {child_id: PersonRef, stage: Activity, start: ActDate, end: Closed}\n"
                 "stages: {CP Plan: cp_plan}\n")
    r = _read(p, mapping=m)
    ep = r.episodes.to_pandas()
    assert ep.stage.tolist() == ["cp_plan", "early_help"]
    assert ep.end.iloc[0] == pd.Timestamp("2021-09-01")


def test_ssd_tables_with_bundled_mapping(tmp_path, workspace):
    (tmp_path / "ssd_cin_episodes.csv").write_text(
        "cine_referral_id,cine_person_id,cine_referral_date,cine_referral_team\nR1,P1,2021-01-04,MASH\n"
        "R2,P1,2021-06-01,MASH\n")
    (tmp_path / "ssd_cin_assessments.csv").write_text(
        "cina_assessment_id,cina_person_id,cina_referral_id,cina_assessment_start_date,cina_assessment_auth_date\n"
        "A1,P1,R1,2021-01-05,2021-02-01\nA2,P1,R2,2021-06-02,\n")
    (tmp_path / "ssd_cp_plans.csv").write_text(
        "cppl_cp_plan_id,cppl_referral_id,cppl_person_id,cppl_cp_plan_start_date,cppl_cp_plan_end_date\n"
        "C1,R1,P1,2021-03-01,2021-05-01\n")
    reps = load(workspace, sorted(tmp_path.glob("ssd_*.csv")), format="events", mapping="ssd")
    assert all(r.accounted for r in reps)
    ep = workspace.table("episodes").execute().sort_values("start")
    assert ep.stage.tolist() == ["referral", "assessment", "cp_plan", "referral", "assessment"]
    p1 = workspace.pseudonymise(["P1"])[0]
    assert ep.need_id.tolist() == [f"{p1}-20210104"] * 3 + [f"{p1}-20210601"] * 2


def test_empty_and_unmatched(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        events.read([tmp_path / "e.csv"])
    (tmp_path / "h.csv").write_text("child_id,stage,start\n")
    r = _read(tmp_path / "h.csv")
    assert r.rows_read == 0
    with pytest.raises(SourceError, match="no table of the mapping"):
        events.read([tmp_path / "h.csv"], mapping="ssd")


def test_a_line_with_two_errors_counts_once(tmp_path):
    """Found by hypothesis: a badly encoded line that also has too many cells is one row read."""
    from cscflow.sources import events

    data = (b"\xef\xbb\xbfchild_id,stage,start\n\xe9stage,start,end,outcome\n"
            + b"".join(b"C%d,referral,2020-03-0%d,2020-03-0%d,assessment\n" % (i, i + 1, i + 2) for i in range(8)))
    path = tmp_path / "events.csv"
    path.write_bytes(data)
    res = events.read([path])[0]
    assert res.rows_read == 9 and res.rows_quarantined == 9
    res.check_accounted()


def test_any_process_log_loads_with_open_stages_and_draws_with_auto_map(tmp_path):
    """A non-CSC log with no end column: instants (zero-length stays), stages kept, dfg on --map auto."""
    from click.testing import CliRunner

    from cscflow.cli import cli

    log = tmp_path / "log.csv"
    log.write_text("child_id,stage,start\nC1,Apply,2020-01-01\nC1,Approve,2020-01-03\n"
                   "C2,Apply,2020-01-02\nC2,Reject,2020-01-05\n")
    ws = str(tmp_path / "ws")
    run = CliRunner().invoke
    refused = run(cli, ["load", ws + "0", str(log), "--format", "events", "--quiet"])
    assert "read 4, loaded 0, quarantined 4" in refused.output
    # most stages are not CSC stages: the load says so and suggests --open-stages
    assert "4 of 4 rows have a stage outside the CSC vocabulary ('Apply', 'Approve', 'Reject')" in refused.output
    assert "--open-stages" in refused.output
    res = run(cli, ["load", ws, str(log), "--format", "events", "--open-stages", "--quiet"])
    assert res.exit_code == 0 and "read 4, loaded 4, quarantined 0" in res.output, res.output
    out = tmp_path / "dfg.csv"
    res = run(cli, ["flow", ws, "dfg", "--map", "auto", "--out", str(out), "--no-suppress"])
    assert res.exit_code == 0, res.output
    import pandas as pd

    dfg = pd.read_csv(out, comment="#").sort_values("target")
    assert dfg[["source", "target", "transitions", "mean_days"]].values.tolist() == [
        ["Apply", "Approve", 1, 2.0], ["Apply", "Reject", 1, 3.0]]


def test_mostly_unknown_stages_suggest_open_stages(tmp_path, workspace):
    """A log whose stages are mostly outside the CSC vocabulary: every row is still accounted for, the
    quarantine hint and a warning suggest --open-stages; a CSC log with a few typos gets no such advice."""
    log = tmp_path / "loans.csv"
    rows = [f"L{i},{a},2020-01-0{1 + k}" for i in range(5) for k, a in enumerate(["Apply", "Check", "Approve"])]
    log.write_text("child_id,stage,start\n" + "\n".join(rows + ["L9,referral,2020-01-02"]) + "\n")
    r = _read(log)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (16, 1, 15)
    assert r.warnings == ["15 of 16 rows have a stage outside the CSC vocabulary ('Apply', 'Approve', 'Check'): "
                          "if it is the event log of another process, load it with --open-stages (Python: "
                          "open_stages=True) and draw it with --map auto; if it is CSC data, map its values to "
                          "CSC stages in a mapping file (stages:)"]
    assert r.quarantine.hint.str.contains("--open-stages").all()
    rep = load(workspace, [log], format="events")[0]
    assert rep.accounted and any("--open-stages" in p["problem"] for p in rep.problems)
    csc = tmp_path / "csc.csv"
    csc.write_text("child_id,stage,start\nC1,referral,2020-01-01\nC1,assessment,2020-01-02\nC1,tea,2020-01-03\n")
    r = _read(csc)
    assert r.rows_quarantined == 1 and not r.warnings
    assert "--open-stages" not in r.quarantine.hint.iloc[0]


@pytest.mark.parametrize("fixture", ["workspace", "spark_workspace"])
def test_case_attributes_kept_once_per_child(tmp_path, fixture, request):
    """``case:...`` columns (XES/pm4py case attributes) describe the child: kept once in children.attrs, taken
    from the child's first loaded row with a value; the other extra columns stay on each stay."""
    p = tmp_path / "log.csv"
    p.write_text(
        "case:concept:name,concept:name,time:timestamp,org:resource,case:AMOUNT_REQ,case:REG_DATE\n"
        "A1,A_SUBMITTED,2012-01-02 10:00:00,112,,2012-01-02\n"    # blank case value: the next row's is taken
        "A1,A_DECLINED,2012-01-03 10:00:00,10862,5000,2012-01-02\n"
        "A2,A_SUBMITTED,2012-01-04 10:00:00,112,7000,2012-01-04\n"
        "A2,bad,not a date,112,9999,2012-01-04\n"                  # quarantined: not the child's value
    )
    ws = request.getfixturevalue(fixture)
    load(ws, [p], format="events", open_stages=True)
    ep = ws.execute(ws.table("episodes")).sort_values("source_row")
    assert [json.loads(a) for a in ep["attrs"]] == [{"org:resource": "112"}, {"org:resource": "10862"},
                                                    {"org:resource": "112"}]
    ch = ws.execute(ws.table("children"))
    got = {c: json.loads(a) for c, a in zip(ch["child_id"], ch["attrs"], strict=True)}
    a1, a2 = ws.pseudonymise(["A1", "A2"])
    assert got == {a1: {"case:AMOUNT_REQ": "5000", "case:REG_DATE": "2012-01-02"},
                   a2: {"case:AMOUNT_REQ": "7000", "case:REG_DATE": "2012-01-04"}}
