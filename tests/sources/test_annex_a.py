"""Annex A: the liia-tools sample workbook, list recognition, headings, prefixes, bad rows."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from cscflow.errors import SourceError
from cscflow.sources import annex_a, load, quality_report

SAMPLE = "sfdl-liia-tools/samples/Annex_A.xlsx"


def _sheet_rows(path):
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out = {ws.title: [r for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    wb.close()
    return out


def test_sample_every_row_accounted(shared_data):
    path = shared_data / SAMPLE
    sheets = _sheet_rows(path)
    n_rows = sum(len([r for r in rows[1:] if any(c is not None for c in r)]) for rows in sheets.values())
    r = annex_a.read_one(path)
    assert r.rows_read == n_rows == 59
    r.check_accounted()
    # List 11 is adopters: counted and quarantined with a note; everything else loads.
    assert r.rows_quarantined == len(sheets["List 11"]) - 1
    assert set(r.quarantine["problem"]) == {"adopter record not loaded"}


def test_sample_stays_match_the_sheets(shared_data):
    path = shared_data / SAMPLE
    sheets = _sheet_rows(path)
    r = annex_a.read_one(path)
    ep = r.episodes
    # independent reference: the dates in the sheets, read straight from openpyxl
    contact_dates = sorted(pd.Timestamp(row[5]) for row in sheets["List 1"][1:])
    assert sorted(ep[ep.stage == "contact"].start) == contact_dates
    referral = sheets["List 3"]
    assert sorted(ep[ep.stage == "referral"].start) == sorted(pd.Timestamp(row[5]) for row in referral[1:])
    cp = sheets["List 7"]
    ends = sorted(pd.Timestamp(row[12]) for row in cp[1:] if row[12] is not None)
    assert sorted(ep[(ep.stage == "cp_plan") & ep.end.notna()].end) == ends
    icpc = [row for row in sheets["List 5"][1:] if row[8] is not None]
    assert (ep.stage == "icpc").sum() == len(icpc)
    assert (ep.stage == "s47").sum() == (ep.stage == "strategy_discussion").sum() == len(sheets["List 5"]) - 1
    # an enquiry whose conference was deemed unnecessary ends the day it starts (as the CIN census reader
    # has it), end unknown: never open for ever; one with a conference ends at it
    s47 = ep[ep.stage == "s47"].sort_values("start")
    no_icpc = sorted(pd.Timestamp(row[6]) for row in sheets["List 5"][1:] if row[8] is None and row[7] == "Yes")
    closed_at_start = s47[(s47.end == s47.start) & (s47.outcome == "nfa")]
    assert sorted(closed_at_start.start) == no_icpc and len(no_icpc) == 2
    assert all(a.get("end_unknown") for a in closed_at_start["attrs"])
    assert s47.end.notna().all()
    # prefixes stripped, codes kept
    assert set(r.children.ethnicity.dropna()) <= {"WBRI", "APKN", "NOBT", "MOTH", "OOTH", "ABAN", "WIRI", "MWBA",
                                                  "BAFR", "BCRB", "AIND", "WOTH", "CHNE", "MWBC"}
    assert set(r.children.sex) <= {"M", "F", "U"}
    la = ep[ep.stage == "looked_after"]
    assert la["attrs"].map(lambda a: a["legal_status"]).tolist()[0] in {"E1", "C2", "C1", "V2", "J1"}
    # List 10 formula cells come through as their cached dates (in the children's attrs)
    adoption = [a for a in r.children["attrs"] if a and "annex_a_adoption" in a]
    assert len(adoption) == len(sheets["List 10"]) - 1
    ref = sorted(row[12].date().isoformat() for row in sheets["List 10"][1:])  # =H2+5 style formula cells
    assert sorted(a["annex_a_adoption"]["date_of_adoption_order"] for a in adoption) == ref


def _write_xlsx(path, sheets: dict[str, list[list]]):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)


@pytest.mark.parametrize("sheet", ["List 3", "List_3", "L3 Referrals", "Referrals (List 3)", "Sheet1"])
def test_sheet_name_variants_and_heading_variants(tmp_path, sheet):
    p = tmp_path / "aa.xlsx"
    _write_xlsx(p, {sheet: [["Annex A return 2024"], [],
                            ["Child  unique ID", "GENDER", "ethnicity", "D.O.B.", "Date Of Referral",
                             "Referral source", "Referral NFA?", "Favourite colour"],
                            ["C1", "b) Female", "a) WBRI", "01/02/2015", 44092, "q) 6: Police", "a) Yes", "blue"],
                            ["C2", "1", "WBRI - White British", dt.datetime(2016, 3, 4), "17/09/2020", "", "No",
                             None]]})
    r = annex_a.read_one(p)
    r.check_accounted()
    ep = r.episodes.sort_values("source_child_id")
    assert ep.stage.tolist() == ["referral", "referral"]
    assert ep.start.tolist() == [pd.Timestamp("2020-09-18"), pd.Timestamp("2020-09-17")]
    assert ep.outcome.tolist() == ["nfa", None]
    assert ep["attrs"].iloc[0]["favourite_colour"] == "blue" and ep["attrs"].iloc[0]["referral_source"] == "6"
    assert r.children.sort_values("source_child_id").sex.tolist() == ["F", "M"]


def test_one_csv_per_list_cp1252(tmp_path):
    p = tmp_path / "List 1 - Contacts.csv"
    p.write_bytes("Child Unique ID,Gender,Date of Contact,Contact Source,Note\r\n"
                  "C1,a) Male,16/09/2020,q) 6: Police,Café\r\nC2,b) Female,2020-09-17,,\r\n".encode("cp1252"))
    r = annex_a.read_one(p)
    r.check_accounted()
    assert r.rows_loaded == 2
    assert r.episodes["attrs"].iloc[0]["note"] == "Café"


def test_missing_required_column_message(tmp_path):
    p = tmp_path / "aa.xlsx"
    _write_xlsx(p, {"List 3": [["Child Unique ID", "Gender", "Date of Referal"], ["C1", "M", "01/01/2020"]]})
    with pytest.raises(SourceError) as err:
        annex_a.read_one(p)
    msg = str(err.value)
    assert "missing required column" in msg and "closest: 'Date of Referal'" in msg and "List 3" in msg


def test_bad_rows_quarantined_good_rows_kept(tmp_path):
    p = tmp_path / "aa.xlsx"
    rows = [["Child Unique ID", "Date of Contact"],
            ["C1", "16/09/2020"],
            ["C2", "31/02/2020"],  # impossible date
            ["C3", "16/09/2999"],  # future
            ["", "16/09/2020"],  # no id
            ["C1", "16/09/2020"],  # duplicate of the first
            ["C5", None],  # no date
            ["C6", "01/01/1850"]]
    _write_xlsx(p, {"List 1": rows})
    r = annex_a.read_one(p, today=dt.date(2024, 1, 1))
    r.check_accounted()
    assert r.rows_read == 7 and r.rows_loaded == 1
    probs = r.quarantine.set_index("source_row")["problem"].to_dict()
    assert probs == {2: "not a date", 3: "future date", 4: "missing child id", 5: "duplicate row",
                     6: "missing start date", 7: "date before 1900"}


def test_empty_and_truncated(tmp_path, shared_data):
    (tmp_path / "e.xlsx").write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        annex_a.read_one(tmp_path / "e.xlsx")
    src = (shared_data / SAMPLE).read_bytes()
    (tmp_path / "t.xlsx").write_bytes(src[:-3000])
    with pytest.raises(SourceError, match="xlsx"):
        annex_a.read_one(tmp_path / "t.xlsx")
    _write_xlsx(tmp_path / "n.xlsx", {"Notes": [["hello"]]})
    with pytest.raises(SourceError, match="no Annex A list"):
        annex_a.read_one(tmp_path / "n.xlsx")


def test_loaded_into_workspace(shared_data, workspace):
    reps = load(workspace, [shared_data / SAMPLE])
    assert reps[0].accounted
    ids = set(workspace.table("children").child_id.execute())
    r = annex_a.read_one(shared_data / SAMPLE)
    assert ids == set(workspace.pseudonymise(r.children.source_child_id.unique()))
    assert workspace.count("episodes") == len(r.episodes)  # nothing else loaded: no cross-source duplicates
    assert quality_report(workspace)["sources"][0]["rows_read"] == 59


@pytest.mark.parametrize("engine", ["auto", "lxml"])
def test_xlsx_cells_match_openpyxl(shared_data, engine):
    """The fast xlsx readers give the cell values openpyxl gives (trailing blanks aside)."""
    import openpyxl

    from cscflow.sources.xlsx import read_sheets

    path = shared_data / "sfdl-liia-tools" / "samples" / "Annex_A.xlsx"
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    want = [(ws.title, [tuple(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]
    wb.close()

    def trim(rows):
        out = []
        for r in rows:
            r = [None if isinstance(v, str) and v in ("#N/A", "") else v for v in r]
            while r and r[-1] is None:
                r.pop()
            # blank text and error cells are blank to the readers (calamine gives both as blank)
            out.append(tuple(None if isinstance(v, str) and v in ("#N/A", "") else v for v in r))
        while out and not out[-1]:
            out.pop()
        return out

    got = read_sheets(path, engine=engine)
    assert [n for n, _ in got] == [n for n, _ in want]
    for (_, g), (_, w) in zip(got, want, strict=True):
        assert trim(g) == trim(w)


def test_list_6_is_child_data_not_cin_plans(shared_data):
    """List 6 dates are the episode of need's (referral to closure), so no cin_plan stays come from it."""
    r = annex_a.read([shared_data / "sfdl-liia-tools" / "samples" / "Annex_A.xlsx"])[0]
    assert not (r.episodes["stage"] == "cin_plan").any()
    assert any(a and "annex_a_cin" in a for a in r.children["attrs"])
    r.check_accounted()
