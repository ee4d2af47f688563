"""Fuzzing the CIN and SSDA903 readers: corrupt valid files; no crash, every row accounted for.

A corrupted file may be refused whole (a one-line SourceError with a hint); otherwise
every record it holds is either loaded or quarantined.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cscflow.errors import SourceError
from cscflow.sources import cin, ssda903

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _cin_text() -> str:
    from test_cin import NEED_A, NEED_NFA, NEED_OPEN, _child, _message

    return _message(_child("C1", NEED_A + NEED_NFA) + _child("C2", NEED_OPEN, sex="<Sex>F</Sex>")
                    + _child("C3", NEED_NFA) + _child("C4", NEED_A.replace("2021-", "2019-")))


def _episodes_csv() -> str:
    from fixture_data import require_shared_data

    path = require_shared_data() / "sfdl-liia-tools" / "samples" / "SSDA903_episodes_for_testing_fixes_INPUT.csv"
    return path.read_text()


def _check(read, path: Path) -> None:
    try:
        results = read([path])
    except SourceError as err:
        assert "\n" not in str(err) and err.hint
        return
    for r in results:
        r.check_accounted()
        assert r.rows_loaded >= 0 and r.rows_read >= r.rows_quarantined
        if not r.episodes.empty:
            assert set(r.episodes["source_row"]) - set(range(1, r.rows_read + 1)) == set()
            closed = r.episodes.dropna(subset=["end"])
            assert (closed["end"] >= closed["start"]).all()


def _mutate_bytes(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for pos, value in edits:
        buf[pos % len(buf)] = value
    return bytes(buf)


byte_edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6)


@FUZZ
@given(edits=byte_edits, cut=st.one_of(st.none(), st.integers(1, 4000)))
def test_cin_corrupt_bytes(tmp_path, edits, cut):
    data = _mutate_bytes(_cin_text().encode(), edits)
    path = tmp_path / "fuzz.xml"
    path.write_bytes(data[:cut] if cut else data)
    _check(cin.read, path)


_CIN_SWAPS = st.sampled_from([
    ("2021-05-20", "2021-02-30"), ("2021-04-10", ""), ("<LAchildID>C3</LAchildID>", "<LAchildID></LAchildID>"),
    ("<Sex>F</Sex>", "<Sex>Q</Sex>"), ("2022-03-01", "2099-03-01"), ("<CINdetails>", "<CINdetails><Junk/>"),
    ("</Assessments>", "</Assessments><Assessments></Assessments>"), ("2020-06-01", "01/06/2020"),
    ("<Section47>", "<Section47><S47ActualStartDate>x</S47ActualStartDate>"), ("<Child>", "<Child><Child/>"),
])


@FUZZ
@given(swaps=st.lists(_CIN_SWAPS, min_size=1, max_size=4))
def test_cin_corrupt_elements(tmp_path, swaps):
    text = _cin_text()
    for old, new in swaps:
        text = text.replace(old, new, 1)
    path = tmp_path / "fuzz.xml"
    path.write_text(text)
    _check(cin.read, path)


cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@FUZZ
@given(cells=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 20), cell), max_size=8),
       drop=st.lists(st.integers(0, 30), max_size=3), dup=st.lists(st.integers(0, 30), max_size=3),
       header=st.one_of(st.none(), st.tuples(st.integers(0, 14), cell)))
@example(cells=[(0, 14, "INF")], drop=[], dup=[], header=None)  # a YEAR of 'INF' crashed the reader
@example(cells=[], drop=[], dup=[], header=(0, '"'))  # an unclosed quote in the header: the error quoted the file
def test_903_corrupt_cells_rows_and_headers(tmp_path, cells, drop, dup, header):
    lines = _episodes_csv().splitlines()
    rows = [line.split(",") for line in lines]
    for r, c, value in cells:
        row = rows[1 + r % (len(rows) - 1)]
        row[c % len(row)] = value.replace("\n", " ").replace("\r", " ")
    for d in dup:
        rows.append(list(rows[1 + d % (len(rows) - 1)]))
    for d in sorted({1 + d % (len(rows) - 1) for d in drop}, reverse=True):
        if len(rows) > 2:
            del rows[d]
    if header:
        rows[0][header[0] % len(rows[0])] = header[1]
    path = tmp_path / "Episodes.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    _check(ssda903.read, path)


@FUZZ
@given(edits=byte_edits, cut=st.one_of(st.none(), st.integers(1, 20000)))
def test_903_xml_corrupt_bytes(tmp_path, edits, cut):
    from fixture_data import require_shared_data

    data = (require_shared_data() / "sfdl-csc-data-synthesizer" / "generated_903.xml").read_bytes()[:30000]
    data = data[: data.rindex(b"</CHILD>") + 8] + b"</EXPSSDA903>"
    data = _mutate_bytes(data, edits)
    path = tmp_path / "fuzz.xml"
    path.write_bytes(data[:cut] if cut else data)
    _check(ssda903.read, path)
