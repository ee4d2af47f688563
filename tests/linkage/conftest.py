"""A small synthetic county (events + legal sheet), its person list and one linkage run, shared."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.linkage.people_list import write_people

#: Children 0-17 of the small county: about 280 legal rows, linked in a few seconds.
SMALL = {"population": {"children_0_17": 80000}, "burn_in_years": 4}


def build(out: Path, params, seed: int):
    """Synthesise events and the legal sheet, load them, write and load the person list."""
    from cscflow import Workspace
    from cscflow.linkage.people import load_people
    from cscflow.sources import load
    from cscflow.synth.run import synthesise

    synthesise(params, seed=seed, out_dir=out / "synth", formats=["events", "legal"])
    ws = Workspace(out / "ws", la="886")
    load(ws, [out / "synth" / "events.csv", out / "synth" / "legal_proceedings.xlsx"])
    truth_kids = pd.read_parquet(out / "synth" / "truth" / "children.parquet")
    known = set(ws.execute(ws.table("children").select("child_id")).child_id)
    truth_kids = truth_kids[pd.Series(ws.pseudonymise(truth_kids.child_id.tolist())).isin(known).to_numpy()]
    people = write_people(truth_kids, out / "people.csv")
    load_people(ws, people)
    truth = pd.read_csv(out / "synth" / "truth" / "proceedings_links.csv", dtype=str, keep_default_na=False)
    truth["row"] = truth["row"].astype(int)
    truth["true_child"] = [p if c else None for c, p in zip(truth.child_id, ws.pseudonymise(truth.child_id.tolist()),
                                                             strict=True)]
    return ws, truth, people


def accuracy(rows: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float]:
    """(precision of the linked rows, recall of the rows that have a true child), against the truth."""
    m = rows.merge(truth[["row", "true_child"]], left_on="source_row", right_on="row", validate="one_to_one")
    linked = m[m["status"] == "linked"]
    right = (linked["child_id"] == linked["true_child"]).sum()
    return right / max(1, len(linked)), right / max(1, m["true_child"].notna().sum())


@pytest.fixture(scope="session")
def small_county(tmp_path_factory):
    out = tmp_path_factory.mktemp("linkage")
    ws, truth, people = build(out, SMALL, seed=3)
    from cscflow.linkage import link_proceedings

    result = link_proceedings(ws)
    yield ws, truth, result, people, out
    ws.close()
