"""The case-management system's person list (``people.csv``): the names the statutory returns do not carry.

An LA links its legal department's care-proceedings sheet (``legal``) against the person list of its case system
(Liquidlogic, Mosaic, Eclipse...): one row per child the system knows, with the LA child id, surname, forename(s),
date of birth and gender, as the system holds them (the system is the master record: no typing slips, unlike the
legal sheet). ``cscflow link WS --people people.csv`` reads it (:mod:`cscflow.linkage.people`); ``cscflow demo``
does so to show the linkage. Children of the county who never came to children's services are not on it.

>>> HEADINGS
['Child ID', 'Surname', 'Forename(s)', 'Date of birth', 'Gender']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cscflow.synth.county import County
from cscflow.synth.writers._common import check_columns, children_frame

HEADINGS = ["Child ID", "Surname", "Forename(s)", "Date of birth", "Gender"]
_GENDER = {"M": "Male", "F": "Female"}


def write(county: County, out_dir: Path, rng: np.random.Generator) -> list[Path]:
    """Write ``people.csv`` (the children with a journey, in child id order); returns its path."""
    kids = children_frame(county)
    check_columns(kids, ("child_id", "surname", "forenames", "birth_date", "sex"), "children")
    kids = kids[kids["child_id"].isin(set(county.journeys["child_id"]))].sort_values("child_id", kind="mergesort")
    frame = pd.DataFrame({
        "Child ID": kids["child_id"].astype(str), "Surname": kids["surname"], "Forename(s)": kids["forenames"],
        "Date of birth": kids["birth_date"].dt.strftime("%d/%m/%Y"),
        "Gender": kids["sex"].astype(str).map(_GENDER).fillna("Not known"),
    })
    path = Path(out_dir) / "people.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return [path]
