"""One mapping of every DfE code, read by the readers and the analyses alike: for every reason episode
ceased (REC) of every collection year, an SSDA903 return and an Annex A list loaded through
``cscflow.sources.load`` give the outcome, and the analyses give the route, that the code list says."""

from __future__ import annotations

import json

import pytest

from cscflow import Workspace
from cscflow.analytics import ready
from cscflow.model.codes import code_list
from cscflow.sources import load

#: the liia-tools schema years (tests/model/test_codes.py checks each against the schema)
YEARS = [2017, 2019, 2022, 2024, 2025, 2026]
#: what a route out of care says about the stay's outcome: written here, independently of the lists
IMPLIED = {"home": "returned_home", "adoption": "permanence", "sgo/cao": "permanence", "18+": "left_care_18",
           "other": "closed"}


def _return(folder, year: int, codes: list[str]) -> None:
    """A 903 return of ``year``: one child per code, in care 1 May to 1 December of the year before
    (one episode, RNE S), leaving with that code; X1 continues into a second, open episode."""
    folder.mkdir(parents=True, exist_ok=True)
    head = ["CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"]
    eps = ["CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"]
    y = year - 1
    for i, code in enumerate(codes):
        child = f"{year}{i:03d}"
        head.append(f"{child},1,01/06/2012,WBRI,,,")
        eps.append(f"{child},01/05/{y},S,C2,N1,U1,PR1,01/12/{y},{code},,,,")
        if code == "X1":
            eps.append(f"{child},01/12/{y},P,C2,N1,U1,PR1,,,,,,")
    (folder / f"header_{year}.csv").write_text("\n".join(head) + "\n")
    (folder / f"episodes_{year}.csv").write_text("\n".join(eps) + "\n")


@pytest.mark.parametrize("year", YEARS)
def test_every_rec_code_maps_the_same_in_reader_and_analyses(tmp_path, year):
    cl = code_list("reason_episode_ceased")
    codes = sorted(cl.valid_in(year))
    assert ("E43" in codes) == (year < 2019) and ("E45" in codes) == (year >= 2019)
    _return(tmp_path / "in", year, codes)
    ws = Workspace(tmp_path / "ws", la="886")
    try:
        load(ws, [tmp_path / "in"])
        stays = ws.execute(ws.table("episodes"))
        stays["rec"] = stays["attrs"].map(lambda a: json.loads(a or "{}").get("rec"))
        per = ready.periods_of_care(ws)
    finally:
        ws.close()
    by_rec = stays.dropna(subset=["rec"]).set_index("rec")
    assert sorted(by_rec.index) == codes
    per = per.set_index("rec")
    for code in codes:
        route = cl.route[code]
        if route is None:  # X1: the stay ends, the period of care goes on
            assert code == "X1" and by_rec.loc[code, "outcome"] == "looked_after"
            continue
        # the reader's outcome and the analyses' route tell the same story, and the list's
        assert by_rec.loc[code, "outcome"] == IMPLIED[route] == cl.exit[code], code
        assert per.loc[code, "route"] == route, code
        assert ready.ROUTE_OF_REC[code] == route
    assert per["route"].isna().sum() == 1  # the X1 child, still in care


def test_annex_a_rec_maps_as_the_903(tmp_path):
    """Annex A List 8 reasons ceased (``e) E4A: ...``) take the same outcomes as the 903 reader."""
    codes = sorted(code_list("reason_episode_ceased").codes)
    rows = ["Child Unique ID,Gender,Ethnicity,Date of Birth,Date started to be looked after,"
            "Date ceased to be looked after,Reason ceased to be looked after,Legal status"]
    for i, code in enumerate(codes):
        rows.append(f"A{i:03d},a) Male,a) WBRI,01/06/2012,01/05/2023,01/12/2023,{chr(97 + i % 26)}) {code}: text,C2")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "List_8.csv").write_text("\n".join(rows) + "\n")
    ws = Workspace(tmp_path / "ws", la="886")
    try:
        load(ws, [folder], format="annex-a")
        got = ws.execute(ws.table("episodes"))
    finally:
        ws.close()
    got = got[got["stage"] == "looked_after"]
    assert len(got) == len(codes)
    want = {c: v or "looked_after" for c, v in code_list("reason_episode_ceased").exit.items()}
    got["rec"] = [json.loads(a or "{}").get("rec") for a in got["attrs"]]
    assert dict(zip(got["rec"], got["outcome"], strict=True)) == want
