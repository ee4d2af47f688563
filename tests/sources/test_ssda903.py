"""SSDA903 reader: third-party fixtures, episode repairs, several years, XML, bad input."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from cscflow.errors import SourceError
from cscflow.sources import ssda903

EPISODE_HEAD = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"
HEADER_HEAD = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
DROPPING = {"duplicate_removed", "replaced_by_later_return"}


def _csv_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [r for r in csv.DictReader(fh) if any(v.strip() for v in r.values() if v)]


def test_d2i_fake_data_every_row_accounted(shared_data):
    folder = shared_data / "d2i-csc-validator-be-903" / "fake_data"
    paths = sorted(folder.glob("*.csv"))
    results = {r.source: r for r in ssda903.read(paths)}
    assert len(results) == len(paths)
    for path in paths:
        r = results[path.name]
        r.check_accounted()
        assert r.rows_read == len(_csv_rows(path)), path.name
    head = _csv_rows(folder / "header.csv")
    children = pd.concat([r.children for r in results.values()])
    assert children["source_child_id"].is_unique
    assert set(children["source_child_id"]) >= {row["CHILD"] for row in head}
    # sex as coded in the header (1 male, 2 female), checked independently
    first = head[0]
    row = children.set_index("source_child_id").loc[first["CHILD"]]
    assert row["sex"] == {"1": "M", "2": "F"}[first["SEX"]] and row["ethnicity"] == first["ETHNIC"]
    eps = results["episodes.csv"]
    raw = _csv_rows(folder / "episodes.csv")
    dropped = eps.repairs["repair"].isin(DROPPING).sum() if not eps.repairs.empty else 0
    stays = eps.episodes.loc[eps.episodes["stage"] == "looked_after"]
    assert len(stays) + dropped + eps.rows_quarantined == len(raw)
    # after the repairs no child has overlapping episodes and only a last episode can be open
    s = stays.sort_values(["source_child_id", "start"])
    same = s["source_child_id"].eq(s["source_child_id"].shift(-1))
    assert not (same & (s["end"].isna() | (s["end"] > s["start"].shift(-1)))).any()
    uasc = {row["CHILD"] for row in _csv_rows(folder / "uasc.csv")}
    flagged = set(children.loc[children["uasc"].astype(bool), "source_child_id"])
    assert flagged == uasc
    leavers = pd.concat([r.episodes for r in results.values()])
    leavers = leavers.loc[leavers["stage"] == "care_leaver"]
    # OC3: a care leaver each, but those with no care episode who turn 18 after the return's year end (the
    # sample is 2017-18: its episodes' dates end by 31 March 2018, 12 on 1 April) are not care leavers yet
    in_care = {row["CHILD"] for row in raw}
    oc3 = _csv_rows(folder / "oc3.csv")
    future = {row["CHILD"] for row in oc3 if row["CHILD"] not in in_care
              and pd.Timestamp(pd.to_datetime(row["DOB"], dayfirst=True)) + pd.DateOffset(years=18)
              > pd.Timestamp("2018-03-31")}
    assert 0 < len(future) < len(oc3)
    assert set(leavers["source_child_id"]) == {row["CHILD"] for row in oc3} - future
    assert results["oc3.csv"].rows_quarantined == len(future)


#: The rule each row of the liia-tools fixes sample exercises (its row ids), and the end it must get.
EXPECTED_FIXES = {
    6: ("open_closed_by_next", "2017-08-20"),  # RULE1_BAD
    10: ("open_closed_by_next", "2017-04-20"),  # RULE1A_BAD
    12: ("open_absent_from_later_returns", "2020-03-31"),  # RULE2_BAD: 2020 return, data to 2023
    14: ("replaced_by_later_return", None),  # RULE3_BAD: restated in the 2018 return
    17: ("replaced_by_later_return", None),  # RULE3A_BAD
    20: ("replaced_by_later_return", None),  # RULE4_BAD
    18: ("overlap_truncated", "2018-12-20"),  # RULE4_BAD
    22: ("gap_closed", "2020-04-02"),  # RULE5_BAD
}


def test_liia_episode_fixes_sample(shared_data):
    path = shared_data / "sfdl-liia-tools" / "samples" / "SSDA903_episodes_for_testing_fixes_INPUT.csv"
    result = ssda903.read([path])[0]
    result.check_accounted()
    assert result.rows_read == 23 and result.rows_quarantined == 0
    repairs = {int(r.source_row): r.repair for r in result.repairs.itertuples()}
    assert repairs == {row: rule for row, (rule, _end) in EXPECTED_FIXES.items()}
    stays = result.episodes.set_index("source_row")
    for row, (_rule, end) in EXPECTED_FIXES.items():
        if end is None:
            assert row not in stays.index
        else:
            assert stays.loc[row, "end"] == pd.Timestamp(end), row
    rows = _csv_rows(path)
    untouched = [i for i, r in enumerate(rows, 1) if r["CHILD"].startswith("NORULE")]
    for i in untouched:
        want = rows[i - 1]["DEC"]
        got = stays.loc[i, "end"]
        assert (pd.isna(got) and not want) or got == pd.Timestamp(want)
    assert len(stays) == 23 - 3


def test_small_2020_samples(shared_data):
    folder = shared_data / "sfdl-liia-tools" / "samples"
    paths = [p for p in (folder / "SSDA903_2020_episodes.csv", folder / "SSDA903_2020_header.csv") if p.exists()]
    results = ssda903.read(paths)
    for path, r in zip(paths, results, strict=True):
        r.check_accounted()
        assert r.rows_read == len(_csv_rows(path))
    eps = results[0]
    # row 1: child 689661 from 11/12/2018 to 18/07/2019, but row 3 starts 16/05/2019: an overlap,
    # so row 1 ends 16/05/2019; row 2 (02/12/2018 to 16/05/2019) overlaps row 1 and ends 11/12/2018
    first = eps.episodes.loc[eps.episodes["source_row"] == 1].iloc[0]
    assert (first["start"], first["end"]) == (pd.Timestamp("2018-12-11"), pd.Timestamp("2019-05-16"))
    second = eps.episodes.loc[eps.episodes["source_row"] == 2].iloc[0]
    assert second["end"] == pd.Timestamp("2018-12-11")
    assert dict(zip(eps.repairs["source_row"], eps.repairs["repair"], strict=True)) == {
        1: "overlap_truncated", 2: "overlap_truncated"}
    assert json.loads(first["attrs"])["legal_status"] == "V4"


def test_synthesizer_xml_fixture(shared_data):
    path = shared_data / "sfdl-csc-data-synthesizer" / "generated_903.xml"
    result = ssda903.read([path])[0]
    result.check_accounted()
    root = ET.parse(path).getroot()
    kids = root.findall("CHILD")
    episodes = root.findall("CHILD/EPISODE")
    assert (len(kids), len(episodes)) == (261, 507)
    assert result.rows_read == 261 + 507 and result.rows_quarantined == 0
    assert len(result.children) == 261
    stays = result.episodes.loc[result.episodes["stage"] == "looked_after"]
    dropped = result.repairs["repair"].isin(DROPPING).sum() if not result.repairs.empty else 0
    assert len(stays) + dropped == 507
    # open stays: episodes without DEC that are their child's last (naive count)
    naive_open = 0
    for kid in kids:
        eps = kid.findall("EPISODE")
        eps.sort(key=lambda e: pd.to_datetime(e.findtext("DECOM"), dayfirst=True))
        naive_open += int(not (eps and eps[-1].findtext("DEC") or "") and bool(eps))
    assert stays["end"].isna().sum() == naive_open
    uasc = {k.findtext("HEADER/CHILDID") for k in kids if (k.findtext("HEADER/UASC") or "") == "1"}
    assert set(result.children.loc[result.children["uasc"].astype(bool), "source_child_id"]) == uasc
    placements = {json.loads(a)["placement"] for a in stays["attrs"]}
    assert placements <= {e.findtext("PL") for e in episodes}


def test_several_years_deduplicated(tmp_path):
    y19 = tmp_path / "2019"
    y20 = tmp_path / "2020"
    y19.mkdir()
    y20.mkdir()
    (y19 / "Episodes.csv").write_text(EPISODE_HEAD + "C1,01/05/2018,S,C2,N1,U1,PR1,,,,,,\n"
                                      "C2,01/06/2018,S,C2,N1,U1,PR1,01/07/2018,E13,,,,\n")
    (y20 / "Episodes.csv").write_text(EPISODE_HEAD + "C1,01/05/2018,S,C2,N1,U1,PR1,03/02/2020,E11,,,,\n")
    (y19 / "Header.csv").write_text(HEADER_HEAD + "C1,1,01/02/2010,WBRI,,,\nC2,2,01/03/2011,AIND,,,\n")
    (y20 / "Header.csv").write_text(HEADER_HEAD + "C1,1,01/02/2010,WBRI,,,\n")
    paths = [y19 / "Episodes.csv", y20 / "Episodes.csv", y19 / "Header.csv", y20 / "Header.csv"]
    results = ssda903.read(paths, la="886")
    for r in results:
        r.check_accounted()
    eps = pd.concat([r.episodes for r in results])
    c1 = eps.loc[eps["source_child_id"] == "C1"]
    assert len(c1) == 1 and c1.iloc[0]["end"] == pd.Timestamp("2020-02-03") and c1.iloc[0]["outcome"] == "permanence"
    assert eps.loc[eps["source_child_id"] == "C2", "outcome"].tolist() == ["returned_home"]
    assert results[0].repairs["repair"].tolist() == ["replaced_by_later_return"]
    kids = pd.concat([r.children for r in results])
    assert sorted(kids["source_child_id"]) == ["C1", "C2"] and set(kids["la"]) == {"886"}
    assert kids.set_index("source_child_id").loc["C2", "birth_date"].isoformat() == "2011-03-01"


def test_bad_rows_quarantined_good_rows_kept(tmp_path):
    path = tmp_path / "episodes.csv"
    body = ("C1,01/05/2018,S,C2,N1,U1,PR1,,,,,,\n"
            "C2,31/02/2018,S,C2,N1,U1,PR1,,,,,,\n"  # impossible date
            "C3,01/05/2018,S,C2,N1,U1,PR1,01/04/2018,E13,,,,\n"  # ends before it starts
            ",01/05/2018,S,C2,N1,U1,PR1,,,,,,\n"  # no child
            "C5,01/05/2999,S,C2,N1,U1,PR1,,,,,,\n"  # future
            "C6,2018-05-01,S,C2,N1,U1,PR1,,,,,,,,,extra\n"  # too many fields (ISO date is fine)
            "C7,,S,C2,N1,U1,PR1,,,,,,\n")  # no start
    path.write_bytes((EPISODE_HEAD + body).encode("cp1252"))
    r = ssda903.read([path])[0]
    r.check_accounted()
    assert r.rows_read == 7 and r.rows_loaded == 1
    by_row = {int(q.source_row): (q.column, q.problem) for q in r.quarantine.itertuples()}
    assert by_row[2][0] == "DECOM" and "not a date" in by_row[2][1]
    assert by_row[3][0] == "DEC" and "before it starts" in by_row[3][1]
    assert by_row[4][0] == "CHILD"
    assert "future" in by_row[5][1]
    assert by_row[6][0] == "(row)"
    assert "missing" in by_row[7][1]
    assert r.episodes["source_child_id"].tolist() == ["C1"]


def test_bom_and_cp1252_headers(tmp_path):
    path = tmp_path / "Header.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER_HEAD + "C\u00e91,2,01/02/2010,WBRI,,,\n").encode("utf-8"))
    r = ssda903.read([path])[0]
    assert r.children["source_child_id"].tolist() == ["C\u00e91"] and r.children["sex"].tolist() == ["F"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("Episodes.csv", b"", "empty"),
        ("Episodes.csv", b"CHILD,DECOM,RNE,LS,CIN,PLACE,DEC_DATE,REC\n1,01/01/2020,S,C2,N1,U1,,\n",
         "DEC (closest: DEC_DATE)"),
        ("x.csv", b"Child ID,Referral date\n1,01/01/2020\n", "not an SSDA903 table"),
        ("cin.xml", b"<Message><Children/></Message>", "--format cin"),
        ("bad.xml", b"<EXPSSDA903><CHILD><HEADER><CHILDID>1</CHILD", "not well-formed"),
        ("bomb.xml", b'<!DOCTYPE x [<!ENTITY a "b">]><EXPSSDA903/>', "refused"),
    ],
)
def test_unreadable_files_give_one_line_errors(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError) as err:
        ssda903.read([path])
    assert expected in str(err.value) and "\n" not in str(err.value) and err.value.hint
