"""Shared value parsing: dates, prefixes, headers, encodings."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cscflow.errors import SourceError
from cscflow.sources import values as v


def test_mixed_date_column_each_value_checked_against_datetime():
    raw = pd.Series(["16/09/2020", "2020-09-17", 44092, "44093", "2020-09-16T10:30:00", "3 Oct 2021",
                     dt.datetime(2021, 1, 2, 5, 6), "20200105", "", None, "31/02/2020", "soon"])
    want = [dt.datetime(2020, 9, 16), dt.datetime(2020, 9, 17), dt.datetime(1899, 12, 30) + dt.timedelta(44092),
            dt.datetime(1899, 12, 30) + dt.timedelta(44093), dt.datetime(2020, 9, 16, 10, 30),
            dt.datetime(2021, 10, 3), dt.datetime(2021, 1, 2, 5, 6), dt.datetime(2020, 1, 5)]
    got = v.parse_dates(raw)
    assert [x.to_pydatetime() for x in got[:8]] == want
    assert got[8:].isna().all()
    assert v.bad_dates(raw, got).tolist() == [False] * 10 + [True, True]


def test_excel_serial_known_value():
    # Excel shows serial 43831 as 01/01/2020 (1900 date system)
    assert v.parse_dates([43831.0])[0] == pd.Timestamp("2020-01-01")


def test_implausible_dates_flags_future_and_ancient():
    p = v.parse_dates(["2020-01-01", "2031-01-01", "1850-01-01", None])
    assert v.implausible_dates(p, today=dt.date(2030, 1, 1)).tolist() == [None, "future date", "date before 1900",
                                                                           None]


@pytest.mark.parametrize("raw,code", [("a) WBRI", "WBRI"), ("WBRI - White British", "WBRI"), ("k) APKN", "APKN"),
                                      ("White - British [WBRI]", "WBRI"), ("s) NOBT", "NOBT")])
def test_ethnicity_codes(raw, code):
    assert v.ethnicity_code(raw) == code


def test_prefixes_and_codes():
    assert v.strip_prefix("q) 6: Police") == "6: Police"
    assert v.leading_code("f) U6: Foster placement - not FFA") == "U6"
    assert v.leading_code("E1: Placement order") == "E1"
    assert [v.sex_code(x) for x in ["a) Male", "b) Female", "1", 2.0, "c) Not stated/recorded", None]] == [
        "M", "F", "M", "F", "U", "U"]
    assert [v.yes_no(x) for x in ["a) Yes", "b) No", "Y", 0, "", "perhaps"]] == [True, False, True, False, None, None]


def test_header_matching_and_missing_message():
    found = ["Child Unique ID", "Gender", "Date of Referal", "Referral Source"]
    spec = {"child_id": ["child unique id"], "start": ["date of referral", "/^referral date/"],
            "source": ["/referral.*source/"]}
    with pytest.raises(SourceError) as err:
        v.match_headers(found, spec, required=["child_id", "start"], where="x.csv")
    msg = str(err.value)
    assert "'date of referral'" in msg and "closest: 'Date of Referal'" in msg and "columns found:" in msg
    assert "\n" not in msg
    assert v.match_headers(found, spec, required=["child_id"]) == {"child_id": 0, "source": 3}


def test_normalise_header_variants():
    assert v.normalise_header("Child’s Legal Status") == v.normalise_header("Childs legal status")
    assert v.normalise_header(" No. of children placed ") == "number of children placed"


@pytest.mark.parametrize("data,enc", [("child_id,stage\n".encode("utf-8-sig"), "utf-8-sig"),
                                      ("Café,é\n".encode("cp1252"), "cp1252"),
                                      ("Café,é\n".encode(), "utf-8"),
                                      ("a,b\n".encode("utf-16"), "utf-16")])
def test_sniff_encoding(tmp_path, data, enc):
    p = tmp_path / "f.csv"
    p.write_bytes(data)
    assert v.sniff_encoding(p) == enc


#: one spelling of 16 September 2020 per layout of DATE_FORMATS (and the number forms)
SPELLINGS = ["16/09/2020", "2020-09-16", "16/09/2020 10:30:00", "16/09/2020 10:30", "2020-09-16 10:30:00",
             "2020-09-16T10:30:00", "2020-09-16 10:30:00.250000", "2020-09-16T10:30:00.250000", "16/09/20",
             "16-09-2020", "16.09.2020", "16 Sep 2020", "16 September 2020", "16-Sep-2020", "16-Sep-20",
             "2020/09/16", "20200916", "44090"]


def test_every_layout_has_a_spelling_read_to_its_date():
    assert len(v.DATE_FORMATS) == 17
    for fmt in v.DATE_FORMATS:  # every layout is exercised by one spelling, read by it alone
        assert any(_reads(s, fmt) for s in SPELLINGS), fmt
    got = v.parse_dates(SPELLINGS)  # Excel serial 44090: 107 days before 44197, which Excel shows as 1 Jan 2021
    assert got.dt.normalize().eq(pd.Timestamp("2020-09-16")).all(), got[got.dt.normalize() != "2020-09-16"]


def _reads(text: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def test_event_log_reads_every_layout_as_the_other_readers(tmp_path, workspace):
    """The event-log reader parses dates in DuckDB SQL; its layouts come from the same list, so each
    spelling loads (through ``cscflow.sources.load``) to the date ``parse_dates`` gives it."""
    from cscflow.sources import load

    rows = ["child_id,stage,start"] + [f"C{i},referral,{s}" for i, s in enumerate(SPELLINGS)]
    (tmp_path / "log.csv").write_text("\n".join(rows) + "\n")
    rep = load(workspace, [tmp_path / "log.csv"], format="events")
    assert rep[0].rows_loaded == len(SPELLINGS)
    ep = workspace.execute(workspace.table("episodes").select("start", "source_row")).sort_values("source_row")
    want = v.parse_dates(SPELLINGS)
    assert [pd.Timestamp(t) for t in ep["start"]] == list(want)


def test_event_log_with_a_month_name_loads(tmp_path, workspace):
    from cscflow.sources import load

    (tmp_path / "log.csv").write_text("child_id,stage,start,end\nC1,referral,16-Sep-2020,18-Sep-2020\n")
    load(workspace, [tmp_path / "log.csv"])
    ep = workspace.execute(workspace.table("episodes"))
    assert ep["start"].tolist() == [pd.Timestamp("2020-09-16")] and ep["end"].tolist() == [pd.Timestamp("2020-09-18")]


def test_the_cin_reader_reads_every_layout_as_the_other_readers():
    """The CIN census reader reads xs:date and dd/mm/yyyy directly (for speed) and every other layout
    through the one list, to the day ``parse_dates`` gives."""
    from cscflow.sources.cin.stream import parse_date

    want = v.parse_dates(SPELLINGS).dt.date.tolist()
    assert [parse_date(s) for s in SPELLINGS] == want
    for bad in ("2021-02-30", "soon", "16/09"):
        with pytest.raises(ValueError):
            parse_date(bad)
