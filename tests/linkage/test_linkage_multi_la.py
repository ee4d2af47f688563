"""Proceedings linkage in a multi-LA workspace (national work), on DuckDB and on Spark: each LA's legal sheet and
person list loaded with its LA (the LA is part of each child's identity), every legal row linked to its true child,
Spark's links those of DuckDB, and linking again in the same Spark session gives them again."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.linkage.people_list import write_people

from cscflow.linkage import LinkageError, link_proceedings
from cscflow.linkage.people import load_people
from cscflow.sources import load

LAS = ("857", "805")  # Rutland and Hartlepool: small LAs, about 100 legal rows between them


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """Two LAs of the national preset: events, legal sheets, person lists and the link truth."""
    from cscflow.synth.national import synthesise_national

    out = tmp_path_factory.mktemp("national")
    synthesise_national(seed=4, out_dir=out, las=list(LAS))
    people = {la: write_people(pd.read_parquet(out / "truth" / "children" / f"la={la}" / "part-0.parquet"),
                               out / f"people_{la}.csv") for la in LAS}
    truth = pd.concat([pd.read_csv(out / "truth" / "proceedings_links" / f"la={la}" / "proceedings_links.csv",
                                   dtype=str, keep_default_na=False).assign(la=la) for la in LAS])
    return out, people, truth


def fill(ws, out, people) -> None:
    for la in LAS:
        load(ws, [out / "events" / f"la={la}" / "part-0.parquet", out / "legal" / f"la={la}" / "legal_proceedings.xlsx"],
             la=la)
        load_people(ws, people[la], la=la)


def links(ws, truth) -> pd.DataFrame:
    """Each legal row's status and child beside its true child (pseudonymised with its LA)."""
    rows = link_proceedings(ws).rows
    truth = truth.assign(source="la=" + truth["la"] + "/legal_proceedings.xlsx", source_row=truth["row"].astype(int))
    truth["true_child"] = [ws.pseudonymise([c], la=la)[0] if c else None
                           for c, la in zip(truth["child_id"], truth["la"], strict=True)]
    m = rows.merge(truth[["source", "source_row", "true_child"]], on=["source", "source_row"], validate="one_to_one")
    return m.sort_values(["source", "source_row"]).reset_index(drop=True)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_multi_la_proceedings_link_to_their_las_children(backend, national, request, tmp_path):
    from cscflow import Workspace

    out, people, truth = national
    duck = Workspace(tmp_path / "duck", multi_la=True)
    with pytest.raises(LinkageError, match="LA of the person list"):
        load_people(duck, people[LAS[0]])
    fill(duck, out, people)
    want = links(duck, truth)
    assert len(want) == len(truth) > 50
    linked = want[want["status"] == "linked"]
    assert (linked["child_id"] == linked["true_child"]).mean() >= 0.99
    assert (linked["child_id"] == linked["true_child"]).sum() >= 0.95 * want["true_child"].notna().sum()
    if backend == "duckdb":
        duck.close()
        return
    spark = request.getfixturevalue("spark")
    db = "t_link_multi_la"
    try:
        ws = Workspace.from_spark(spark, database=db, key_file=tmp_path / "duck" / "key", multi_la=True)
        fill(ws, out, people)
        got = links(ws, truth)
        key = ["proceedings_id", "candidate_child_id", "status"]
        pd.testing.assert_frame_equal(got[key], want[key])
        # run again in the same session (a re-run after clerical decisions): Splink's input tables of the first
        # run must not be in the way
        pd.testing.assert_frame_equal(links(ws, truth)[key], got[key])
        assert (got["match_probability"] - want["match_probability"]).abs().max() < 1e-3
    finally:
        duck.close()
        spark.sql(f"DROP DATABASE IF EXISTS `{db}` CASCADE")
        spark.catalog.setCurrentDatabase("default")
