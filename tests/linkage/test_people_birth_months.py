"""The person list gives a birth month to the children no return dated (those only in an event log)."""

from __future__ import annotations

import pandas as pd

from cscflow.linkage.people import load_people


def test_person_list_fills_missing_birth_months_only(workspace, tmp_path):
    ids = workspace.pseudonymise(["A1", "B2", "C3"])
    workspace.write("children", pd.DataFrame({"child_id": ids, "la": "886",
                                              "birth_month": [None, pd.Timestamp("2010-03-01"), None]}))
    people = tmp_path / "people.csv"
    people.write_text("Child ID,Surname,Forename(s),Date of birth,Gender\n"
                      "A1,Smith,Ava,15/06/2012,Female\n"
                      "B2,Jones,Ben,01/01/2011,Male\n"
                      "D4,Brown,Dan,02/02/2009,Male\n")  # D4 is in no return: not added to the children
    assert load_people(workspace, people) == 3
    kids = workspace.execute(workspace.table("children")).set_index("child_id")["birth_month"]
    assert len(kids) == 3
    assert pd.Timestamp(kids[ids[0]]) == pd.Timestamp("2012-06-01")  # filled, to the month
    assert pd.Timestamp(kids[ids[1]]) == pd.Timestamp("2010-03-01")  # the return's kept
    assert pd.isna(kids[ids[2]])  # not on the list
