"""Hypothesis fuzzing of the Annex A, event-log and legal readers.

Valid files are corrupted at random (cells, bytes, rows, headings). A reader may refuse a file
with a one-line SourceError; otherwise it must not crash and must account for every row.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

import openpyxl
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as ILLEGAL

from cscflow.errors import SourceError
from cscflow.sources import annex_a, events, legal

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
CELLS = st.one_of(st.none(), st.text(max_size=12), st.integers(-10, 200_000), st.floats(allow_nan=True),
                  st.sampled_from(["31/02/2020", "2999-01-01", "a) WBRI", "#N/A", "=A1+1", "\u00e9\x00", "  "]),
                  st.datetimes(min_value=dt.datetime(1800, 1, 1), max_value=dt.datetime(2200, 1, 1)))

ANNEX = [["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Date of Referral", "Referral Source",
          "Referral NFA?", "Allocated Team"]] + [
    [f"C{i}", "a) Male", "a) WBRI", dt.datetime(2010, 1, 1 + i), dt.datetime(2020, 3, 1 + i), "q) 6: Police",
     "No", "Team A"] for i in range(8)]
EVENTS = "child_id,stage,start,end,outcome\n" + "".join(
    f"C{i},referral,2020-03-{1 + i:02d},2020-03-{2 + i:02d},assessment\n" for i in range(8))
LEGAL = [["Case No", "Child Surname", "Child Forename", "DOB", "Date Issued", "Final Order", "Final Order Date"]] + [
    [f"Z{i}", "Smith", "Amy", "01/02/2015", f"0{1 + i}/04/2023", "Care Order", "05/10/2023"] for i in range(8)]


def _corrupt_rows(draw, rows):
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(rows) - 1))
        action = draw(st.sampled_from(["cell", "cell", "drop", "dup", "short", "long"]))
        if action == "cell" and rows[i]:
            j = draw(st.integers(0, len(rows[i]) - 1))
            rows[i][j] = draw(CELLS)
        elif action == "drop" and len(rows) > 1:
            rows.pop(i)
        elif action == "dup":
            rows.insert(i, list(rows[i]))
        elif action == "short":
            rows[i] = rows[i][: draw(st.integers(0, len(rows[i])))]
        elif action == "long":
            rows[i] = rows[i] + [draw(CELLS)]
    return rows


def _xlsx(rows, sheet):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append([v if not isinstance(v, str) else ILLEGAL.sub("", v) for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _check(reader, path):
    try:
        results = reader([path])
    except SourceError as err:
        assert "\n" not in str(err)
        return None
    for r in results:
        r.check_accounted()
    return results


@st.composite
def corrupted_workbook(draw, rows, sheet):
    data = _xlsx(_corrupt_rows(draw, rows), sheet)
    if draw(st.booleans()):  # flip or cut bytes
        b = bytearray(data)
        # positions as fractions: xlsx bytes differ between runs (save timestamps)
        frac = st.floats(0, 1, exclude_max=True)
        for _ in range(draw(st.integers(1, 4))):
            b[int(draw(frac) * len(b))] = draw(st.integers(0, 255))
        if draw(st.booleans()):
            b = b[: int(draw(frac) * len(b))]
        data = bytes(b)
    return data


@FUZZ
@given(corrupted_workbook(ANNEX, "List 3"))
def test_fuzz_annex_a(data):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "annex.xlsx"
        p.write_bytes(data)
        _check(annex_a.read, p)


@FUZZ
@given(corrupted_workbook(LEGAL, "Tracker"))
def test_fuzz_legal(data):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "legal.xlsx"
        p.write_bytes(data)
        _check(legal.read, p)


@st.composite
def corrupted_csv(draw):
    rows = [line.split(",") for line in EVENTS.strip().split("\n")]
    rows = _corrupt_rows(draw, rows)
    text = "\n".join(",".join("" if v is None else str(v).replace(",", ";") for v in r) for r in rows) + "\n"
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    data = text.encode(enc, errors="replace")
    if draw(st.booleans()):
        b = bytearray(data)
        for _ in range(draw(st.integers(1, 5))):
            b[draw(st.integers(0, len(b) - 1))] = draw(st.sampled_from([0, 10, 13, 34, 44, 0xE9, 0xFF, 65]))
        data = bytes(b)
    return data


@FUZZ
@given(corrupted_csv())
def test_fuzz_events_csv(data):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "events.csv"
        p.write_bytes(data)
        _check(events.read, p)


@FUZZ
@given(st.lists(st.tuples(st.one_of(st.none(), st.text(max_size=5)), st.sampled_from(["referral", "s47", "x", None]),
                          st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1700, 1, 1),
                                                            max_value=dt.datetime(2500, 1, 1)))),
                max_size=20))
def test_fuzz_events_parquet(rows):
    import pyarrow.parquet as pq

    t = pa.table({"child_id": pa.array([r[0] for r in rows], pa.string()),
                  "stage": pa.array([r[1] for r in rows], pa.string()),
                  "start": pa.array([r[2] for r in rows], pa.timestamp("us"))})
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "e.parquet"
        pq.write_table(t, p)
        res = _check(events.read, p)
        assert res is not None and res[0].rows_read == len(rows)
