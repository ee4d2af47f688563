"""SSDA903 writers: CSVs give back the truth's looked-after episodes; the XML validates against the
2021 903 schema and says the same as the CSVs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from lxml import etree

from cscflow.synth.writers import ssda903, ssda903_xml


def truth_episodes(county) -> pd.DataFrame:
    la = county.journeys.query("stage == 'looked_after'")
    rows = []
    for r in la.itertuples():
        a = json.loads(r.attrs) if r.attrs else {}
        rows.append(dict(CHILD=r.child_id, DECOM=r.start.normalize(),
                         DEC=r.end.normalize() if pd.notna(r.end) else pd.NaT,
                         LS=a.get("legal_status"), PLACE=a.get("placement"), REC=a.get("rec") if pd.notna(r.end) else None))
    return pd.DataFrame(rows).sort_values(["CHILD", "DECOM"]).reset_index(drop=True)


def test_903_csvs_give_back_the_truth_episodes(hand_county, tmp_path):
    paths = ssda903.write(hand_county, tmp_path, np.random.default_rng(3))
    assert len(paths) == 9 * len(hand_county.census_years())
    frames = []
    for year in hand_county.census_years():
        ep = pd.read_csv(tmp_path / "ssda903" / str(year) / "Episodes.csv", dtype=str, keep_default_na=False)
        assert list(ep.columns) == ssda903.TABLES["Episodes"]
        ep["DECOM"] = pd.to_datetime(ep["DECOM"], format="%d/%m/%Y")
        ep["DEC"] = pd.to_datetime(ep["DEC"].replace("", None), format="%d/%m/%Y")
        y0, y1 = pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year, 3, 31)
        assert (ep["DECOM"] <= y1).all() and (ep["DEC"].isna() | ((ep["DEC"] >= y0) & (ep["DEC"] <= y1))).all()
        frames.append(ep)
    allep = pd.concat(frames)
    # the last return an episode appears in knows its end (or it is still open at the county's end)
    allep = allep.sort_values(["CHILD", "DECOM", "DEC"], na_position="first").drop_duplicates(
        ["CHILD", "DECOM"], keep="last").reset_index(drop=True)
    truth = truth_episodes(hand_county)
    assert len(truth) > 20
    got = allep[["CHILD", "DECOM", "DEC", "LS", "PLACE"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, truth[["CHILD", "DECOM", "DEC", "LS", "PLACE"]], check_dtype=False)
    rec = allep["REC"].replace("", None)
    assert list(rec) == list(truth["REC"])


def test_903_header_matches_children(hand_county, tmp_path):
    ssda903.write(hand_county, tmp_path, np.random.default_rng(3), years=[2017])
    header = pd.read_csv(tmp_path / "ssda903" / "2017" / "Header.csv", dtype=str, keep_default_na=False)
    episodes = pd.read_csv(tmp_path / "ssda903" / "2017" / "Episodes.csv", dtype=str, keep_default_na=False)
    assert set(header["CHILD"]) == set(episodes["CHILD"])
    kids = hand_county.children.set_index("child_id")
    for r in header.itertuples():
        assert {"M": "1", "F": "2"}[kids.at[r.CHILD, "sex"]] == r.SEX
        assert kids.at[r.CHILD, "birth_date"].strftime("%d/%m/%Y") == r.DOB
        assert (kids.at[r.CHILD, "upn"] or r.UPN) == r.UPN and len(r.UPN) in (3, 13)


def test_903_xml_validates_and_matches_csv(shared_data, hand_county, tmp_path):
    xsd = etree.XMLSchema(etree.parse(str(shared_data / "sfdl-csc-data-synthesizer" / "CLA_SSDA903_2021.xsd")))
    paths = ssda903_xml.write(hand_county, tmp_path, np.random.default_rng(3))
    ssda903.write(hand_county, tmp_path, np.random.default_rng(3))
    assert [p.name for p in paths] == [f"ssda903_{y}.xml" for y in hand_county.census_years()]
    for year, path in zip(hand_county.census_years(), paths, strict=True):
        doc = etree.parse(str(path))
        assert xsd.validate(doc), f"{path.name}: {xsd.error_log.last_error}"
        csv = pd.read_csv(tmp_path / "ssda903" / str(year) / "Episodes.csv", dtype=str, keep_default_na=False)
        xml = [(e.getparent().findtext("HEADER/CHILDID"), e.findtext("DECOM"), e.findtext("DEC") or "",
                e.findtext("LS"), e.findtext("PL")) for e in doc.iter("EPISODE")]
        assert sorted(xml) == sorted(zip(csv.CHILD, csv.DECOM, csv.DEC, csv.LS, csv.PLACE, strict=True))
        reviews = pd.read_csv(tmp_path / "ssda903" / str(year) / "Reviews.csv", dtype=str)
        assert len(doc.findall(".//AREVIEW")) == len(reviews)


def test_903_same_seed_same_bytes(hand_county, tmp_path):
    a = ssda903.write(hand_county, tmp_path / "a", np.random.default_rng(9))
    b = ssda903.write(hand_county, tmp_path / "b", np.random.default_rng(9))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    x = ssda903_xml.write(hand_county, tmp_path / "a", np.random.default_rng(9))
    y = ssda903_xml.write(hand_county, tmp_path / "b", np.random.default_rng(9))
    assert [p.read_bytes() for p in x] == [p.read_bytes() for p in y]
