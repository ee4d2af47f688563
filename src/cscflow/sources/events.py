"""Generic event logs (CSV or Parquet), read in DuckDB so that 10 million rows take seconds.

Without a mapping the reader expects the columns ``child_id``, ``stage`` and ``start`` and,
optionally, ``end``, ``outcome``, ``team``, ``worker`` and ``need_key`` (what ``cscflow synth``
writes). ``start``/``end`` may be timestamps, dates, ISO text, ``dd/mm/yyyy`` text or Excel
serial numbers. Every other column becomes a key of the stay's ``attrs`` JSON, except the case attributes:
columns named ``case:...`` (the XES and pm4py convention, e.g. ``case:AMOUNT_REQ``) describe the child (the
case), not the event, so they are kept once per child in ``children.attrs`` (the value on the child's first
loaded row that has one), not repeated on every stay. A log with no
``end`` column records instants (each event a zero-length stay); a blank ``end`` cell means the
stay is still open. ``open_stages=True`` (``cscflow load --open-stages``) keeps stage values
outside the CSC vocabulary, for any process log drawn with ``--map auto``.

A mapping file (YAML) renames other layouts. One layout::

    columns: {child_id: person_id, stage: event_type, start: event_date, end: end_date}
    stages: {"Section 47": s47, "CP Plan": cp_plan}      # optional: source value -> stage

or several, chosen by file name (one table per stage, like the Standard Safeguarding
Dataset; ``mapping="ssd"`` is the bundled mapping for it)::

    tables:
      - files: "ssd_contacts*"
        stage: contact                                  # every row is this stage
        columns: {child_id: cont_person_id, start: cont_contact_date}

Rows are quarantined (never dropped) when the child id is blank, the stage unknown, a date
unreadable, in the future or before 1900, or the row repeats an earlier row exactly.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
>>> _ = p.write_text("child_id,stage,start,colour\\nC1,Referral,16/09/2020,red\\nC1,nonsense,2020-09-17,\\n")
>>> r = read([p])[0]
>>> r.rows_read, r.rows_loaded, r.quarantine["problem"].tolist()
(2, 1, ['unknown stage'])
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import fnmatch
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from cscflow.errors import SourceError
from cscflow.model.stages import STAGES
from cscflow.sources.base import CHILD_COLUMNS, QUARANTINE_COLUMNS, ReadResult, source_name
from cscflow.sources.events_stage import EngineStays, drop_temp, next_tag
from cscflow.sources.values import ISO_DATE, match_headers, normalise_header, sniff_encoding, sql_date_formats

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

MAPPINGS_DIR = Path(__file__).with_name("mappings")
FIELDS = ("child_id", "stage", "start", "end", "outcome", "team", "worker", "need_key")
#: Heading patterns per field when no mapping names the column.
PATTERNS: dict[str, list[str]] = {
    "child_id": ["child_id", "child id", "childid", "la child id", "lachildid", "child", "/^child (unique )?id/",
                 "case:concept:name", "case id"],
    "stage": ["stage", "activity", "event", "event type", "step", "concept:name"],
    "start": ["start", "start date", "start time", "timestamp", "date", "start datetime", "event date",
              "time:timestamp"],
    "end": ["end", "end date", "end time", "end datetime", "completed"],
    "outcome": ["outcome", "result", "reason"],
    "team": ["team", "allocated team"],
    "worker": ["worker", "worker id", "allocated worker"],
    "need_key": ["need_key", "need key", "need id", "referral id", "episode of need"],
}
#: Common ways of writing stages -> the canonical stage id (compared normalised: lower, '_' for gaps).
STAGE_ALIASES: dict[str, str] = {
    "section_47": "s47", "section_47_enquiry": "s47", "s47_enquiry": "s47", "s_47": "s47",
    "child_protection_plan": "cp_plan", "cpp": "cp_plan", "cp": "cp_plan",
    "child_in_need_plan": "cin_plan", "cin": "cin_plan",
    "looked_after_child": "looked_after", "lac": "looked_after", "cla": "looked_after",
    "child_looked_after": "looked_after", "in_care": "looked_after",
    "initial_child_protection_conference": "icpc",
    "child_and_family_assessment": "assessment", "c_f_assessment": "assessment", "single_assessment": "assessment",
    "early_help_episode": "early_help", "eh": "early_help",
    "strategy": "strategy_discussion", "strategy_meeting": "strategy_discussion",
    "plo": "pre_proceedings", "care_proceedings": "proceedings", "leaving_care": "care_leaver",
}
_DATE_FORMATS = sql_date_formats()  # the readers' one list (sources.values.DATE_FORMATS)


@dataclass
class Layout:
    """How one file's columns map to the event fields."""

    files: str = "*"
    columns: dict[str, str] = field(default_factory=dict)
    stage: str | None = None  # a constant stage for every row
    stages: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    open_stages: bool = False  # keep stage values outside the CSC vocabulary (any process log, --map auto)


def load_mapping(mapping: str | Path | dict[str, Any] | None) -> list[Layout]:
    """Layouts from a mapping YAML file, a bundled mapping name (``"ssd"``) or a dict."""
    if mapping is None:
        return [Layout()]
    if isinstance(mapping, dict):
        data = mapping
        where = "mapping"
    else:
        path = Path(mapping)
        if not path.exists() and (MAPPINGS_DIR / f"{mapping}.yaml").exists():
            path = MAPPINGS_DIR / f"{mapping}.yaml"
        if not path.exists():
            bundled = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml")))
            raise SourceError(f"mapping file {mapping} not found", hint=f"give a YAML file path or one of: {bundled}")
        where = path.name
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except yaml.YAMLError as exc:
            raise SourceError(f"mapping {where} is not valid YAML: {str(exc).splitlines()[0]}",
                              hint="check indentation and quoting") from None
    if not isinstance(data, dict):
        raise SourceError(f"mapping {where} must be a YAML mapping", hint="see `columns:` or `tables:` in the docs")
    tables = data.get("tables", [data])
    out = []
    for t in tables:
        if not isinstance(t, dict):
            raise SourceError(f"mapping {where}: each table must be a mapping", hint="see the docs for an example")
        unknown = set(t.get("columns", {}) or {}) - set(FIELDS)
        if unknown:
            raise SourceError(f"mapping {where}: unknown field(s) {', '.join(sorted(unknown))}",
                              hint=f"map source columns to {', '.join(FIELDS)}")
        stage = t.get("stage")
        if stage is not None and stage not in STAGES:
            raise SourceError(f"mapping {where}: unknown stage {stage!r}", hint=f"use one of {', '.join(STAGES)}")
        out.append(Layout(files=str(t.get("files", "*")), columns=dict(t.get("columns", {}) or {}), stage=stage,
                          stages={str(k): str(v) for k, v in (t.get("stages") or {}).items()},
                          outcomes={str(k): str(v) for k, v in (t.get("outcomes") or {}).items()},
                          open_stages=bool(t.get("open_stages", False))))
    return out


def _norm_sql(expr: str) -> str:
    return f"trim(regexp_replace(lower(trim({expr})), '[^a-z0-9]+', '_', 'g'), '_')"


def _norm(value: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "_", value.strip().lower()).strip("_")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _date_sql(col: str, typ: str) -> str:
    if typ.startswith(("TIMESTAMP", "DATE")):
        return f"CAST({col} AS TIMESTAMP)"
    s = f"nullif(trim(CAST({col} AS VARCHAR)), '')"
    fmts = "[" + ", ".join(_lit(f) for f in _DATE_FORMATS) + "]"
    serial = f"try_cast({s} AS DOUBLE)"
    # Text starting yyyy-mm-dd (most logs, millions of rows) takes the ISO casts first: no layout of the list
    # reads such text otherwise than they do (none takes a time zone), so trying the list first only costs
    # time (16 layouts a row). Other text: the list (two-digit years first), then yyyymmdd and Excel serials.
    return (
        f"CASE WHEN regexp_matches({s}, {_lit(ISO_DATE.pattern)}) THEN coalesce(try_cast({s} AS TIMESTAMP), "
        f"try_cast(try_cast({s} AS TIMESTAMPTZ) AS TIMESTAMP), try_strptime({s}, {fmts})) "
        f"ELSE coalesce(try_strptime({s}, {fmts}), "
        f"CASE WHEN regexp_full_match({s}, '[0-9]{{8}}') THEN try_strptime({s}, '%Y%m%d') "
        f"WHEN {serial} BETWEEN 2 AND 109574 THEN TIMESTAMP '1899-12-30' "
        f"+ to_seconds(CAST(round({serial} * 86400) AS BIGINT)) END) END"
    )


def _utf8_copy(path: Path, encoding: str, tmpdir: str) -> Path:
    """Stream-transcode a cp1252 / UTF-16 CSV to UTF-8 (DuckDB reads UTF-8)."""
    out = Path(tmpdir) / (path.stem + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(8 << 20):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
    return out


def read(paths: list[Path], mapping: str | Path | dict[str, Any] | None = None, today: dt.date | None = None,
         open_stages: bool = False, ws: WorkspaceLike | None = None, **_: Any) -> list[ReadResult]:
    """Read event logs: one :class:`ReadResult` per file.

    ``open_stages`` keeps stage values outside the CSC vocabulary as they are (trimmed), so
    any process log can be loaded and drawn with ``--map auto``. Without ``ws`` the episodes are
    an Arrow table; with a DuckDB workspace ``ws`` (as :func:`cscflow.sources.load` passes) the
    file is read by the workspace's own engine and the episodes stay there
    (:class:`~cscflow.sources.events_stage.EngineStays`): the same SQL, the same rows.
    """
    layouts = load_mapping(mapping)
    if open_stages:
        layouts = [dataclasses.replace(lay, open_stages=True) for lay in layouts]
    chosen = []
    for p in paths:
        p = Path(p)
        matching = [lay for lay in layouts if fnmatch.fnmatch(p.name.lower(), lay.files.lower())]
        if not matching:
            raise SourceError(f"{p.name}: no table of the mapping matches this file name",
                              hint="add a `files:` pattern for it to the mapping")
        chosen.append((p, matching[0]))
    out: list[ReadResult] = []
    try:
        for p, lay in chosen:
            out.append(read_one(p, lay, today=today, ws=ws))
    except Exception:  # a file that cannot be read: what the files before it left in the engine goes too
        for res in out:
            if ws is not None and isinstance(res.episodes, EngineStays):
                ws.drop_temporary(res.episodes.tag)
        raise
    return out


def read_one(path: Path, layout: Layout | None = None, today: dt.date | None = None,
             ws: WorkspaceLike | None = None) -> ReadResult:
    """Read one event log file with one layout (in ``ws``'s engine when it is a DuckDB workspace)."""
    layout = layout or Layout()
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file", hint="check the path")
    if path.stat().st_size == 0:
        raise SourceError(f"{path.name} is empty (0 bytes)", hint="export the event log again")
    today = today or dt.date.today()
    con = ws.sql_connection() if ws is not None else None
    in_ws = con is not None
    if con is None:
        con = duckdb.connect()
    tag = next_tag() if in_ws else "_ev"
    if not in_ws:
        con.execute("SET TimeZone='UTC'")
    # DuckDB's progress bar is drawn from the engine's threads on long queries: slow, and noise for users
    con.execute("SET enable_progress_bar = false")
    keep = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("SET preserve_insertion_order = true")  # rowid of a scanned table = its row in the file
    with tempfile.TemporaryDirectory() as tmp:
        try:
            res = _read(con, path, layout, today, tmp, tag)
            if not in_ws:
                res.episodes = _arrow(con.execute(f"{res.episodes.sql} ORDER BY pos").arrow()).drop_columns(["pos"])
            return res
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0][:200]
            drop_temp(con, tag)
            raise SourceError(f"{path.name} cannot be read as an event log: {first}",
                              hint="check it is a CSV with a header row, or a Parquet file") from None
        except Exception:
            drop_temp(con, tag)
            raise
        finally:
            con.execute(f"SET preserve_insertion_order = {'true' if keep else 'false'}")
            if not in_ws:
                con.close()


def _arrow(got: Any) -> pa.Table:
    return got.read_all() if isinstance(got, pa.RecordBatchReader) else got  # duckdb >= 1.4 may return a reader


def _source(con: duckdb.DuckDBPyConnection, path: Path, tmp: str, tag: str) -> tuple[str, list[str], dict[str, str]]:
    """(the SQL that scans the file, its column names, their types)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        src = f"read_parquet({_lit(str(path))}, file_row_number = true)"
    else:
        # DuckDB reads gzip-compressed CSV itself (taken as UTF-8); other text is checked for its encoding
        enc = "utf-8" if path.name.lower().endswith(".gz") else sniff_encoding(path)
        text = path if enc in ("utf-8", "utf-8-sig") else _utf8_copy(path, enc, tmp)
        src = (f"read_csv({_lit(str(text))}, header = true, all_varchar = true, store_rejects = true, "
               f"rejects_table = {_lit(tag + '_rej')}, rejects_scan = {_lit(tag + '_rejscan')})")
    described = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
    cols = [(r[0], r[1]) for r in described if r[0] != "file_row_number"]
    return src, [c for c, _ in cols], dict(cols)


def _read(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout, today: dt.date, tmp: str,
          tag: str) -> ReadResult:
    is_parquet = path.suffix.lower() in (".parquet", ".pq")
    src, names, types = _source(con, path, tmp, tag)
    if not names:
        raise SourceError(f"{path.name} has no header row or no columns", hint="the first row must name the columns")

    # Which source column is each field?
    expected = {f: ([layout.columns[f]] if f in layout.columns else PATTERNS[f]) for f in FIELDS}
    required = ["child_id", "start"] + ([] if layout.stage else ["stage"])
    try:
        found = match_headers(names, {f: p for f, p in expected.items()}, required=required, where=path.name)
    except SourceError:
        if not is_parquet and len(names) <= 1 and names[0].startswith("column"):
            raise SourceError(f"{path.name} has no header row or no columns",
                              hint="the first row must name the columns") from None
        raise
    col = {f: names[i] for f, i in found.items()}
    other = [c for c in names if c not in col.values()]

    def opt(f: str) -> str:
        return f"nullif(trim(CAST(raw.{_q(col[f])} AS VARCHAR)), '')" if f in col else "CAST(NULL AS VARCHAR)"

    # A column already holding a JSON object (attrs / attributes) is merged with the other columns.
    packed = [c for c in other if normalise_header(c) in ("attrs", "attributes")][:1]
    case = [c for c in other if c.strip().lower().startswith("case:") and c not in packed]
    other = [c for c in other if c not in packed and c not in case]
    case_cols = "".join(f", raw.{_q(c)} AS __case{i}" for i, c in enumerate(case))
    attrs = ("to_json(struct_pack(" + ", ".join(f"{_q(c)} := raw.{_q(c)}" for c in other) + "))"
             if other else None)
    if packed:
        js = f"coalesce(try_cast(raw.{_q(packed[0])} AS JSON), '{{}}'::JSON)"
        attrs = f"json_merge_patch({js}, {attrs})" if attrs else js
    attrs = f"nullif(CAST({attrs} AS VARCHAR), '{{}}')" if attrs else "CAST(NULL AS VARCHAR)"
    start_raw = f"raw.{_q(col['start'])}"
    # A log with no end column records instants: each event is a zero-length stay (end = start).
    # A blank cell in an end column means the stay is still open.
    start_sql = _date_sql(start_raw, types[col['start']])
    end_raw = f"raw.{_q(col['end'])}" if "end" in col else "CAST(NULL AS VARCHAR)"
    stage_raw = _lit(layout.stage) if layout.stage else f"CAST(raw.{_q(col['stage'])} AS VARCHAR)"
    outcome_raw = f"CAST(raw.{_q(col['outcome'])} AS VARCHAR)" if "outcome" in col else "CAST(NULL AS VARCHAR)"
    outcome = f"nullif(trim({outcome_raw}), '')"
    if layout.outcomes and "outcome" in col:  # the mapping's own outcome values (a short list)
        whens = " ".join(f"WHEN {_lit(_norm(k))} THEN {_lit(v)}" for k, v in layout.outcomes.items())
        outcome = f"nullif(trim(coalesce(CASE {_norm_sql(outcome_raw)} {whens} END, {outcome_raw})), '')"
    checks = _checks(pd.Timestamp(today) + pd.Timedelta(days=1))
    by_row = " OR ".join(f"coalesce({cond}, false)" for c, *_, cond in checks if cond != "stage IS NULL")
    same = "source_child_id, stage_raw, start_raw, end_raw, outcome, team, worker, need_key, attrs" + "".join(
        f", __case{i}" for i in range(len(case)))
    # One scan of the file into the engine, with no join (a join would not keep the file's order): with
    # insertion order kept, a CSV row's rowid is its place among the rows the reader accepted. The scan
    # also checks each row (all but its stage) and hashes it whole (to find exact duplicates).
    scanned, ev = f"{tag}_scanned", f"{tag}_ev"
    end_sql = f'{_date_sql(end_raw, types[col["end"]])} AS "end", ' if "end" in col else ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {scanned} AS SELECT *, {'' if end_sql else 'start AS "end", '}
            ({by_row}) AS __bad_row, hash({same}) AS __h
        FROM (SELECT {"file_row_number + 1 AS __row, " if is_parquet else ""}
            nullif(trim(CAST(raw.{_q(col['child_id'])} AS VARCHAR)), '') AS source_child_id,
            {stage_raw} AS stage_raw, {start_sql} AS start, {start_raw} AS start_raw,
            {end_sql}{end_raw} AS end_raw,
            {outcome} AS outcome, {opt('team')} AS team, {opt('worker')} AS worker,
            {opt('need_key')} AS need_key, {attrs} AS attrs{case_cols}
        FROM {src} AS raw)""")
    rejects = pd.DataFrame(columns=["line", "error_type", "csv_line"])
    if not is_parquet:
        rejects = con.execute(f"SELECT DISTINCT line, error_type, csv_line FROM {tag}_rej ORDER BY line").df()
    n_good = con.execute(f"SELECT count(*) FROM {scanned}").fetchone()[0]
    joins = []
    if is_parquet:
        row_sql = "s.__row"
    elif rejects.empty:
        row_sql = "s.rowid + 1"
    else:  # data rows after a rejected line shift: number good rows by the lines left over
        bad_rows = (rejects["line"].astype("int64") - 1).to_numpy()
        total = n_good + len(bad_rows)
        good = np.setdiff1d(np.arange(1, total + 1, dtype=np.int64), bad_rows)[:n_good]
        con.register(f"{tag}_rownums", pa.table({"__i": np.arange(0, n_good, dtype=np.int64), "__r": good}))
        joins.append(f"JOIN {tag}_rownums n ON s.rowid = n.__i")
        row_sql = "n.__r"
    # Stages (canonical ids, aliases and the mapping's own values) looked up once per distinct value and
    # joined to the rows, which keep their place as __pos.
    if layout.stage:
        stage_sql = _lit(layout.stage)
    else:
        lookup = {s: s for s in STAGES} | STAGE_ALIASES | {_norm(k): v for k, v in layout.stages.items()}
        con.register(f"{tag}_stage_map", pa.table({"k": list(lookup), "v": list(lookup.values())}))
        found_stage = "coalesce(sm.v, nullif(trim(d.k), ''))" if layout.open_stages else "sm.v"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {tag}_stages AS SELECT d.k, {found_stage} AS v FROM "
                    f"(SELECT DISTINCT stage_raw AS k FROM {scanned}) d LEFT JOIN {tag}_stage_map sm "
                    f"ON sm.k = {_norm_sql('d.k')}")
        joins.append(f"LEFT JOIN {tag}_stages st ON st.k IS NOT DISTINCT FROM s.stage_raw")
        stage_sql = "st.v"
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {ev} AS SELECT s.*, s.rowid AS __pos,
        CAST({row_sql} AS BIGINT) AS source_row, {stage_sql} AS stage, (s.__bad_row OR {stage_sql} IS NULL) AS __bad
        FROM {scanned} s {' '.join(joins)}""")
    n_bad = con.execute(f"SELECT count(*) FROM {ev} WHERE __bad").fetchone()[0]
    n_cand = con.execute(f"SELECT count(*) FROM (SELECT __h FROM {scanned} GROUP BY __h HAVING count(*) > 1)").fetchone()[0]
    listed = []
    if n_bad:  # the (few) rows failing a check, with their raw values
        listed += [f"SELECT source_row, {_lit(c)} AS \"column\", CAST({v} AS VARCHAR) AS value, {_lit(p)} AS problem, "
                   f"{_lit(h)} AS hint FROM {ev} WHERE __bad AND coalesce({cond}, false)"
                   for c, v, p, h, cond in checks]
    if n_cand:  # rows sharing a hash: compared column by column (exact duplicates only)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {tag}_dups AS SELECT source_row FROM (
            SELECT source_row, row_number() OVER (PARTITION BY {same} ORDER BY source_row) AS k
            FROM {ev} WHERE __h IN (SELECT __h FROM {ev} GROUP BY __h HAVING count(*) > 1)) WHERE k > 1""")
        n_cand = con.execute(f"SELECT count(*) FROM {tag}_dups").fetchone()[0]
        listed.append("SELECT source_row, NULL AS \"column\", NULL AS value, 'duplicate row' AS problem, "
                      f"'the row repeats an earlier row; nothing to do' AS hint FROM {tag}_dups")
    if not listed:
        listed.append("SELECT CAST(NULL AS BIGINT) AS source_row, NULL AS \"column\", NULL AS value, "
                      "NULL AS problem, NULL AS hint WHERE false")
    quarantine = con.execute(" UNION ALL ".join(listed) + " ORDER BY source_row").df()
    if not rejects.empty:
        rj = pd.DataFrame({
            "source_row": rejects["line"].astype("int64") - 1,
            "column": None,
            "value": rejects["csv_line"].astype(str).str.slice(0, 200),
            "problem": "malformed row: " + rejects["error_type"].astype(str).str.lower(),
            "hint": "the row has the wrong number of cells (check quotes and separators)",
        })
        rj.loc[rj["problem"].str.contains("encoding"), "hint"] = "save the file as UTF-8 (or cp1252 text)"
        quarantine = pd.concat([quarantine, rj], ignore_index=True)
    quarantine = quarantine[QUARANTINE_COLUMNS]
    cols = "source_child_id, stage, start, \"end\", outcome, need_key, team, worker, attrs, source_row"
    if n_bad or n_cand:  # the stays kept, in file order: pos numbers them from 0
        drop = (f" AND source_row NOT IN (SELECT source_row FROM {tag}_dups)" if n_cand else "")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {tag}_kept AS SELECT {cols} FROM {ev} "
                    f"WHERE NOT __bad{drop} ORDER BY __pos")
        stays = EngineStays(f"SELECT {cols}, rowid AS pos FROM {tag}_kept", tag,
                            con.execute(f"SELECT count(*) FROM {tag}_kept").fetchone()[0])
    else:
        stays = EngineStays(f"SELECT {cols}, __pos AS pos FROM {ev}", tag, n_good)
    res = ReadResult(source=source_name(path), format="events")
    if case:
        res.children = _case_attributes(con, ev, case, n_cand > 0, tag)
    # DuckDB may report one line under several errors (e.g. bad encoding and too many columns)
    res.rows_read = int(n_good + (rejects["line"].nunique() if not rejects.empty else 0))
    res.rows_loaded = int(stays.num_rows)
    res.episodes = stays
    res.quarantine = quarantine.reset_index(drop=True)
    _hint_open_stages(con, ev, res, layout)
    return res


def _case_attributes(con: duckdb.DuckDBPyConnection, ev: str, case: list[str], dups: bool, tag: str) -> pd.DataFrame:
    """One row per child of the loaded rows: the ``case:...`` columns as its ``attrs`` JSON (each the value on
    the child's first loaded row that has one)."""
    firsts = ", ".join(f"{_q(c)} := arg_min(__case{i}, __pos)" for i, c in enumerate(case))
    drop = f" AND source_row NOT IN (SELECT source_row FROM {tag}_dups)" if dups else ""
    got = con.execute(f"SELECT source_child_id, nullif(CAST(to_json(struct_pack({firsts})) AS VARCHAR), '{{}}') "
                      f"AS attrs FROM {ev} WHERE NOT __bad{drop} GROUP BY source_child_id").df()
    return got.reindex(columns=CHILD_COLUMNS)


def _hint_open_stages(con: duckdb.DuckDBPyConnection, ev: str, res: ReadResult, layout: Layout) -> None:
    """When most rows' stages are outside the CSC vocabulary, say so and suggest ``--open-stages``.

    Such a file is most likely another process's event log (loan applications, hospital visits): every
    row would otherwise be quarantined as an unknown stage with a hint listing the CSC stages only.
    """
    if layout.stage or layout.open_stages or not res.rows_read:
        return
    top = con.execute(f"SELECT trim(stage_raw) AS v, count(*) AS n FROM {ev} WHERE stage IS NULL "
                      "AND nullif(trim(stage_raw), '') IS NOT NULL GROUP BY 1 ORDER BY n DESC, v").fetchall()
    unknown = sum(n for _, n in top)
    if unknown * 2 <= res.rows_read:
        return
    seen = ", ".join(repr(v) for v, _ in top[:3]) + (f" and {len(top) - 3:,} more" if len(top) > 3 else "")
    advice = ("if it is the event log of another process, load it with --open-stages (Python: open_stages=True) "
              "and draw it with --map auto; if it is CSC data, map its values to CSC stages in a mapping file "
              "(stages:)")
    res.warnings.append(f"{unknown:,} of {res.rows_read:,} rows have a stage outside the CSC vocabulary "
                        f"({seen}): {advice}")
    q = res.quarantine
    q.loc[q["problem"] == "unknown stage", "hint"] = (
        f"most of this file's stages are not CSC stages: {advice}; CSC stages are {', '.join(STAGES)}")


def _checks(limit: pd.Timestamp) -> list[tuple[str, str, str, str, str]]:
    """(column, value shown, problem, hint, SQL condition over ``ev``) of each check that quarantines a row."""
    late = f"TIMESTAMP '{limit}'"
    return [
        ("child_id", "NULL", "missing child id", "every row needs the LA child id", "source_child_id IS NULL"),
        ("stage", "stage_raw", "unknown stage",
         f"use one of {', '.join(STAGES)}, or map it in the mapping file (stages:)", "stage IS NULL"),
        ("start", "start_raw", "start is not a date", "write dates as yyyy-mm-dd or dd/mm/yyyy", "start IS NULL"),
        ("end", "end_raw", "end is not a date",
         "write dates as yyyy-mm-dd or dd/mm/yyyy, or leave end blank while the stay is open",
         "\"end\" IS NULL AND nullif(trim(CAST(end_raw AS VARCHAR)), '') IS NOT NULL"),
        ("start", "start_raw", "future date", "check the date (it is after today)", f"start >= {late}"),
        ("end", "end_raw", "future date", "check the date (it is after today)", f"\"end\" >= {late}"),
        ("start", "start_raw", "date before 1900", "check the year", "start < TIMESTAMP '1900-01-01'"),
    ]
