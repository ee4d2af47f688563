"""A multi-LA workspace (national work) on Spark as on DuckDB: the same LA child ids in two LAs are two children,
and the stays, children and flow tables equal those of a DuckDB multi-LA workspace loaded from the same files."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.spark

STAY_COLUMNS = ["child_id", "stage", "start", "end", "outcome", "need_id", "team", "source", "source_row"]
CHILD_COLUMNS = ["child_id", "la", "sex", "birth_month"]


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    """One synthetic event log copied as two LAs' files (the same LA child ids in both, as the national preset)."""
    from cscflow.synth import synthesise

    out = tmp_path_factory.mktemp("multi_la")
    paths = synthesise("tiny", seed=5, out_dir=out, formats=["events"])
    log = next(p for p in paths if p.name == "events.parquet")
    files = {}
    for la in ("886", "887"):
        files[la] = out / f"la{la}_events.parquet"  # a source is named by its file: names must differ
        files[la].write_bytes(log.read_bytes())
    return files


def frame(ws, table: str, columns: list[str]) -> pd.DataFrame:
    df = ws.execute(ws.table(table).select(*columns)).astype(object).where(lambda d: d.notna(), None)
    return df.sort_values(columns, key=lambda s: s.astype(str)).reset_index(drop=True)


@pytest.mark.parametrize("backend", ["duckdb", "spark"])
def test_multi_la_workspace_keeps_las_apart_and_matches_duckdb(backend, events, request, tmp_path):
    from cscflow import Workspace
    from cscflow.journeys import flow
    from cscflow.sources import load

    duck = Workspace(tmp_path / "duck", multi_la=True)
    for la, path in events.items():
        load(duck, [path], la=la)
    db = "t_multi_la"
    if backend == "spark":
        spark = request.getfixturevalue("spark")
        ws = Workspace.from_spark(spark, database=db, key_file=tmp_path / "duck" / "key", multi_la=True)
    else:
        ws = Workspace(tmp_path / "other", multi_la=True)
        ws.key = duck.key
    try:
        assert ws.multi_la
        for la, path in events.items():
            load(ws, [path], la=la)
        kids = frame(ws, "children", CHILD_COLUMNS)
        per_la = kids.groupby("la").size()
        assert per_la["886"] == per_la["887"] > 50  # the same LA child ids in two LAs are two children
        assert set(kids.child_id[kids.la == "886"]).isdisjoint(kids.child_id[kids.la == "887"])
        pd.testing.assert_frame_equal(kids, frame(duck, "children", CHILD_COLUMNS), check_dtype=False)
        pd.testing.assert_frame_equal(frame(ws, "episodes", STAY_COLUMNS), frame(duck, "episodes", STAY_COLUMNS),
                                      check_dtype=False)
        one = flow.stations(ws, "england", where={"la": "887"})
        pd.testing.assert_frame_equal(one.reset_index(drop=True),
                                      flow.stations(duck, "england", where={"la": "887"}).reset_index(drop=True),
                                      check_dtype=False)
        assert 0 < one["entered"].sum() < flow.stations(ws, "england")["entered"].sum()
    finally:
        duck.close()
        if backend == "spark":
            spark.sql(f"DROP DATABASE IF EXISTS `{db}` CASCADE")
            spark.catalog.setCurrentDatabase("default")
        else:
            ws.close()
