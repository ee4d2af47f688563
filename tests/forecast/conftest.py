"""A synthetic county of 30,000 children written straight into a workspace (episodes and children)."""

from __future__ import annotations

import pandas as pd
import pytest

from cscflow.synth.params import load_parameters


def county_params(children: int = 30000) -> dict:
    """The tiny preset scaled to ``children`` aged 0-17 (about 1,300 care episodes in four years)."""
    p = load_parameters("tiny")
    p["population"]["children_0_17"] = children
    p["burn_in_years"] = 8
    return p


def write_county(root, county, tweak=None) -> object:
    """A workspace holding ``county``'s journeys as one event log and its children (with their UASC flag, as an
    SSDA903 return gives it); ``tweak`` (optional) changes the episodes before they are written (the sources
    that hold them, the outcomes a source does not hold)."""
    from cscflow import Workspace

    ws = Workspace(root, la="886")
    j = county.journeys.reset_index(drop=True)
    ep = pd.DataFrame({"episode_id": [f"E{i}" for i in range(len(j))], "child_id": j["child_id"].astype(str),
                       "stage": j["stage"], "start": j["start"], "end": j["end"], "outcome": j["outcome"],
                       "need_id": j["need_id"], "team": j["team"], "source": "county.parquet",
                       "source_row": range(len(j))})
    ws.write("episodes", tweak(ep) if tweak else ep, mode="replace")
    k = county.children
    ws.write("children", pd.DataFrame({"child_id": k["child_id"].astype(str), "la": "886", "sex": k["sex"],
                                       "birth_month": pd.to_datetime(k["birth_date"]).dt.to_period("M").dt.start_time,
                                       "uasc": k["uasc"].astype(bool)}),
             mode="replace")
    return ws


@pytest.fixture(scope="session")
def county_and_ws(tmp_path_factory):
    from cscflow.synth import simulate

    params = county_params()
    county = simulate(params, seed=11)
    return params, county, write_county(tmp_path_factory.mktemp("forecast"), county)


@pytest.fixture(scope="session")
def county_writer():
    """:func:`write_county` itself, for tests that need a workspace of their own."""
    return write_county


@pytest.fixture(scope="session")
def county_parameters():
    """:func:`county_params` itself, for tests that draw counties of their own."""
    return county_params
