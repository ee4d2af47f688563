"""Loading into a Spark workspace (national analysts' scale-out path) gives the same children, stays and load
reports as loading the same files into DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.spark

STAY_COLUMNS = ["child_id", "stage", "start", "end", "outcome", "need_id", "team", "source", "source_row"]
CHILD_COLUMNS = ["child_id", "la", "sex", "ethnicity", "birth_month", "disability", "uasc"]
REVIEW_COLUMNS = ["review_id", "child_id", "stage", "date", "code", "source", "source_row"]
MISSING_COLUMNS = ["missing_id", "child_id", "kind", "start", "end", "interview_offered", "interview_accepted",
                   "source", "source_row"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from cscflow.synth import synthesise

    out = tmp_path_factory.mktemp("spark_load")
    paths = synthesise("tiny", seed=3, out_dir=out, formats=["annex-a", "cin", "903", "legal", "events"])
    return [p for p in paths if "truth" not in p.parts and p.name != "events.csv"]


def frame(ws, table: str, columns: list[str]) -> pd.DataFrame:
    df = ws.execute(ws.table(table).select(*columns)).astype(object).where(lambda d: d.notna(), None)
    return df.sort_values(columns, key=lambda s: s.astype(str)).reset_index(drop=True)


def test_spark_load_equals_duckdb_load(spark, files, tmp_path):
    from cscflow import Workspace
    from cscflow.sources import load

    # Two loads: the second adds stays to children already loaded (duplicates across loads, needs re-attached).
    first = [p for p in files if p.suffix != ".parquet"]
    second = [p for p in files if p.suffix == ".parquet"]
    assert first and second
    duck = Workspace(tmp_path / "duck", la="886")
    want = load(duck, first) + load(duck, second)
    db = "t_spark_load"
    sw = Workspace.from_spark(spark, database=db, key_file=tmp_path / "duck" / "key", la="886")  # same key
    try:
        got = load(sw, first) + load(sw, second)
        assert [(r.file, r.rows_read, r.rows_loaded, r.rows_quarantined) for r in got] == \
            [(r.file, r.rows_read, r.rows_loaded, r.rows_quarantined) for r in want]
        assert sum(r.rows_loaded for r in got) > 3000
        assert got[-1].duplicate_stays == want[-1].duplicate_stays > 0   # the event log repeats the returns
        pd.testing.assert_frame_equal(frame(sw, "episodes", STAY_COLUMNS), frame(duck, "episodes", STAY_COLUMNS),
                                      check_dtype=False)
        pd.testing.assert_frame_equal(frame(sw, "children", CHILD_COLUMNS), frame(duck, "children", CHILD_COLUMNS),
                                      check_dtype=False)
        for table, columns in (("reviews", REVIEW_COLUMNS), ("missing", MISSING_COLUMNS)):
            assert duck.count(table) > 0, table
            pd.testing.assert_frame_equal(frame(sw, table, columns), frame(duck, table, columns), check_dtype=False)
    finally:
        duck.close()
        spark.sql(f"DROP DATABASE IF EXISTS `{db}` CASCADE")
        spark.catalog.setCurrentDatabase("default")
