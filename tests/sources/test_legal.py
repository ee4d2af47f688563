"""Legal-department proceedings spreadsheets."""

from __future__ import annotations

import pandas as pd
import pytest

from cscflow.errors import SourceError
from cscflow.sources import legal, load


def test_tracker_csv_to_proceedings_and_identifiers(tmp_path, workspace):
    p = tmp_path / "tracker.csv"
    p.write_text(
        "Case No,Child Name,DOB,Date Issued,Final Order,Final Order Date,Court,Solicitor\n"
        "ZW24C1,Amy Smith,01/02/2015,03/04/2024,Care Order,05/10/2024,Leeds,JB\n"
        "ZW24C1,Ben Smith,05/06/2017,03/04/2024,SGO,05/10/2024,Leeds,JB\n"
        "ZW24C2,Cal Jones,07/08/2019,,,,Leeds,JB\n"               # no application date
        "ZW24C3,Dee Ray,07/08/2019,31/13/2024,,,Leeds,JB\n"       # not a date
        "ZW24C1,Amy Smith,01/02/2015,03/04/2024,Care Order,05/10/2024,Leeds,JB\n"  # duplicate
    )
    r = legal.read([p])[0]
    r.check_accounted()
    assert (r.rows_read, r.rows_loaded) == (5, 2)
    assert r.quarantine.set_index("source_row").problem.to_dict() == {
        3: "missing application date", 4: "not a date", 5: "duplicate row"}
    (rep,) = load(workspace, [p], format="legal")
    pr = workspace.table("proceedings").execute().sort_values("source_row")
    assert pr.order.tolist() == ["care_order", "sgo"]
    assert pr.child_id.isna().all()  # linked later
    assert [d.date().isoformat() for d in pd.to_datetime(pr.application_date)] == ["2024-04-03"] * 2
    idf = workspace.table("identifiers").execute().sort_values("source_child_id")
    assert set(idf.source_child_id) == set(pr.proceedings_id)
    assert sorted(idf.surname) == ["Smith", "Smith"] and sorted(idf.forenames) == ["Amy", "Ben"]
    assert "Amy" not in str(pr.to_dict())  # names only in the restricted table


def test_synth_legal_round_trip(tmp_path, workspace):
    from cscflow.synth.run import synthesise

    synthesise("tiny", seed=5, out_dir=tmp_path, formats=["legal"])
    truth = pd.read_parquet(tmp_path / "truth" / "proceedings.parquet")
    (rep,) = load(workspace, [tmp_path / "legal_proceedings.xlsx"])
    assert rep.accounted and rep.rows_read == len(truth)
    pr = workspace.table("proceedings").execute()
    assert sorted(pd.to_datetime(pr.application_date)) == sorted(pd.to_datetime(truth.application_date))
    assert sorted(pd.to_datetime(pr.final_order_date).dropna()) == sorted(
        pd.to_datetime(truth.final_order_date).dropna())


def test_missing_application_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Case No,Child Name,DOB,Court\nZ1,A B,01/01/2015,Leeds\n")
    with pytest.raises(SourceError, match="missing required column"):
        legal.read([p])
