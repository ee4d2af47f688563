"""Any process event log (case, activity, timestamp) as episodes, for ``--map auto`` and process mining.

Children's social care data comes in through :mod:`cscflow.sources` (which knows the sector's stages).
A log from another process (such as the BPI Challenge 2012 loan applications) is loaded here as it
stands: each event becomes a zero-length stay whose stage is the activity name, the case id is kept
as ``child_id`` (it names no child), and ``source_row`` is the event's row in the file, so ties in
time keep the file's order, as process-mining tools do.

>>> import tempfile, pathlib
>>> from cscflow import Workspace
>>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
>>> _ = p.write_text("case,activity,time\\n1,a,2024-01-01 10:00\\n1,b,2024-01-01 12:00\\n")
>>> ws = Workspace(tempfile.mkdtemp(), la="999")
>>> load_event_log(ws, p, case="case", activity="activity", timestamp="time")
2
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cscflow.errors import SourceError

#: pm4py / XES column names.
PM4PY = {"case": "case:concept:name", "activity": "concept:name", "timestamp": "time:timestamp"}


def read_event_log(
    path: str | Path, case: str = PM4PY["case"], activity: str = PM4PY["activity"],
    timestamp: str = PM4PY["timestamp"],
) -> pa.Table:
    """Read a CSV event log (gzip allowed) into an Arrow table with the canonical episode columns."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"no event log at {path}", hint="check the path")
    try:
        table = pacsv.read_csv(
            path, convert_options=pacsv.ConvertOptions(
                include_columns=[case, activity, timestamp],
                column_types={case: pa.string(), activity: pa.string()},
            )
        )
    except (pa.ArrowInvalid, KeyError) as exc:
        raise SourceError(
            f"{path.name}: cannot read columns {case!r}, {activity!r}, {timestamp!r} ({str(exc).splitlines()[0]})",
            hint="name the case, activity and timestamp columns of your log",
        ) from None
    ts = table.column(timestamp)
    if not pa.types.is_timestamp(ts.type):
        try:
            ts = pc.strptime(pc.utf8_slice_codeunits(ts, 0, 19), format="%Y-%m-%d %H:%M:%S", unit="us")
        except pa.ArrowInvalid as exc:
            raise SourceError(f"{path.name}: column {timestamp!r} holds values that are not timestamps "
                              f"({str(exc).splitlines()[0]})", hint="write times as YYYY-MM-DD HH:MM:SS") from None
    if getattr(ts.type, "tz", None):
        ts = ts.cast(pa.timestamp(ts.type.unit, tz="UTC")).cast(pa.timestamp(ts.type.unit))
    ts = ts.cast(pa.timestamp("us"))
    n = table.num_rows
    rows = pa.array(np.arange(1, n + 1, dtype="int64"))
    return pa.table({
        "episode_id": pa.nulls(n, type=pa.string()),  # source_row identifies the event
        "child_id": table.column(case),
        "stage": table.column(activity),
        "start": ts,
        "end": ts,
        "source": pa.array(np.full(n, path.name, dtype=object), type=pa.string()),
        "source_row": rows,
    })


def load_event_log(ws: Any, path: str | Path, mode: str = "replace", **columns: str) -> int:
    """Load a CSV event log into ``ws``'s episodes (``mode`` 'replace' or 'append'); returns the events loaded.

    ``columns`` names the log's ``case``, ``activity`` and ``timestamp`` columns (pm4py names by default).
    On a DuckDB workspace the file is read by DuckDB's parallel CSV reader straight into the table.
    """
    if getattr(ws, "engine", "") == "duckdb" and mode in ("replace", "append"):
        n = _load_duckdb(ws, Path(path), mode, **columns)
        ws.touch()
        return n
    return ws.write("episodes", read_event_log(path, **columns), mode=mode)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _load_duckdb(ws: Any, path: Path, mode: str, case: str = PM4PY["case"], activity: str = PM4PY["activity"],
                 timestamp: str = PM4PY["timestamp"]) -> int:
    if not path.is_file():
        raise SourceError(f"no event log at {path}", hint="check the path")
    con = ws.con.con  # the DuckDB connection under Ibis
    try:
        src, kinds = _typed_source(con, path, case, activity, timestamp)
    except Exception as exc:  # duckdb raises its own error types
        raise SourceError(f"{path.name}: cannot read it as CSV ({str(exc).splitlines()[0]})",
                          hint="give a CSV event log with a header row") from None
    missing = [c for c in (case, activity, timestamp) if c not in kinds]
    if missing:
        raise SourceError(f"{path.name}: no column {missing[0]!r} (found {', '.join(kinds)})",
                          hint="name the case, activity and timestamp columns of your log")
    kind = kinds[timestamp].upper()
    ts = _q(timestamp)
    when = (f"timezone('UTC', {ts})" if "TIME ZONE" in kind else f"CAST({ts} AS TIMESTAMP)"
            if kind.startswith(("TIMESTAMP", "DATE")) else f"CAST({ts} AS TIMESTAMP)")
    # The file is parsed (both threads) into a temporary table; DuckDB's reader keeps the file's row order
    # (insertion order preserved), so a row's rowid there is its row in the file, and ties in time keep the
    # file's order. row_number() over the scan gives the same numbers but costs as much as the parse.
    temp = "_cscflow_event_log"
    keep = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("SET preserve_insertion_order = true")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {temp} AS SELECT CAST({_q(case)} AS VARCHAR) AS child_id, "
                    f"CAST({_q(activity)} AS VARCHAR) AS stage, {when} AS start FROM {src}")
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if keep else 'false'}")
    select = ("SELECT CAST(NULL AS VARCHAR) AS episode_id, child_id, stage, start, start AS \"end\", "
              "CAST(NULL AS VARCHAR) AS outcome, CAST(NULL AS VARCHAR) AS need_id, CAST(NULL AS VARCHAR) AS team, "
              "CAST(NULL AS VARCHAR) AS worker, CAST(NULL AS VARCHAR) AS attrs, "
              f"{_sql_text(path.name)} AS source, CAST(rowid + 1 AS BIGINT) AS source_row FROM {temp}")
    try:
        if mode == "replace":
            con.execute(f"CREATE OR REPLACE TABLE episodes AS {select}")
            return int(con.execute("SELECT count(*) FROM episodes").fetchone()[0])
        before = con.execute("SELECT count(*) FROM episodes").fetchone()[0]
        con.execute(f"INSERT INTO episodes {select}")
        return int(con.execute("SELECT count(*) FROM episodes").fetchone()[0] - before)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {temp}")


def _typed_source(con: Any, path: Path, case: str, activity: str, timestamp: str) -> tuple[str, dict[str, str]]:
    """A ``read_csv`` call with the dialect sniffed from a sample and every column's type given.

    Columns other than the timestamp are read as text: DuckDB then parses only the timestamp (typing
    every column, as the full auto-detection does, costs about as much as the rest of the load).
    """
    cur = con.execute(f"SELECT * FROM sniff_csv({_sql_text(str(path))})")
    names = [d[0] for d in cur.description]
    sniff = dict(zip(names, cur.fetchone(), strict=True))
    kinds = {c["name"]: str(c["type"]) for c in sniff["Columns"]}
    if timestamp in kinds and not kinds[timestamp].upper().startswith(("TIMESTAMP", "DATE")):
        kinds[timestamp] = "VARCHAR"
    types = ", ".join(f"{_sql_text(n)}: {_sql_text(t if n == timestamp else 'VARCHAR')}" for n, t in kinds.items())
    def opt(key: str) -> str:  # the sniffer says '(empty)' for an option it found unused
        value = sniff.get(key)
        return _sql_text("" if value in (None, "(empty)") else str(value))

    opts = [f"auto_detect=false, header={'true' if sniff['HasHeader'] else 'false'}", f"delim={opt('Delimiter')}",
            f"quote={opt('Quote')}", f"escape={opt('Escape')}", f"skip={int(sniff['SkipRows'] or 0)}",
            f"comment={opt('Comment')}", f"columns={{{types}}}"]
    for key, opt in (("DateFormat", "dateformat"), ("TimestampFormat", "timestampformat")):
        if sniff.get(key):
            opts.append(f"{opt}={_sql_text(sniff[key])}")
    return f"read_csv({_sql_text(str(path))}, {', '.join(opts)})", kinds


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
