"""The case system's person list (people.csv): every child with a journey, as the county holds them, read back by
the linkage's person-list reader to the same names, dates of birth and sexes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cscflow.linkage.people import read_people
from cscflow.synth.writers import people


def test_people_list_reads_back_to_the_county(county, tmp_path):
    [path] = people.write(county, tmp_path, np.random.default_rng(1))
    got = read_people(path).set_index("child_id").sort_index()
    kids = county.children.set_index("child_id")
    assert set(got.index) == set(county.journeys["child_id"])
    want = kids.loc[got.index]
    assert (got["surname"] == want["surname"]).all() and (got["forenames"] == want["forenames"]).all()
    assert (got["birth_date"] == pd.to_datetime(want["birth_date"])).all()
    sex = got["sex"].map({"Male": "M", "Female": "F"})
    assert (sex == want["sex"].astype(str)).all()


def test_a_person_list_given_to_load_says_where_it_goes(county, tmp_path):
    """`cscflow load` of a folder holding the person list: not 'cannot tell the format' but where to give it; the
    synth writes it only when asked (the default formats load as they are)."""
    from click.testing import CliRunner

    from cscflow.cli import cli
    from cscflow.synth.writers import defaults

    assert "people" not in defaults()
    [path] = people.write(county, tmp_path / "files", np.random.default_rng(1))
    r = CliRunner().invoke(cli, ["load", str(tmp_path / "ws"), str(path), "--la", "886"])
    assert r.exit_code != 0 and "a person list" in r.output and "cscflow link WORKSPACE --people people.csv" in r.output
