"""The case-management system's person list of synthetic children, as an LA would export it (for linkage tests
and benchmarks: the returns carry no names, so the synth's truth stands in for the LA's system)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HEADINGS = {"child_id": "Child ID", "surname": "Surname", "forenames": "Forename(s)", "birth_date": "Date of birth",
            "sex": "Gender"}


def write_people(kids: pd.DataFrame, path: Path) -> Path:
    """Write the truth's ``kids`` (child_id, surname, forenames, birth_date, sex) as a person list CSV."""
    kids.rename(columns=HEADINGS)[list(HEADINGS.values())].to_csv(path, index=False)
    return path
