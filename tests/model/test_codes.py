"""The bundled code lists agree with the schemas LAs' returns are validated against."""

from pathlib import Path

import pytest
import yaml
from lxml import etree

from cscflow.model import STAGES
from cscflow.model.codes import code_list, names
from cscflow.model.stages import EXITS

XS = {"xs": "http://www.w3.org/2001/XMLSchema"}


def test_every_list_has_meaning_and_source():
    assert len(names()) >= 14
    for name in names():
        cl = code_list(name)
        assert cl.name == name and cl.meaning and cl.source and cl.codes


def _xsd_enum(path: Path, type_name: str) -> set[str]:
    tree = etree.parse(str(path))
    st = tree.find(f".//xs:simpleType[@name='{type_name}']", XS)
    return {e.get("value") for e in st.iterfind(".//xs:enumeration", XS)}


@pytest.mark.parametrize(
    "name,type_name",
    [
        ("ethnicity", "ethnicitytype"),
        ("referral_source", "referralsourcetype"),
        ("primary_need", "primaryneedcodetype"),
        ("reason_for_closure", "reasonforclosuretype"),
        ("category_of_abuse", "categoryofabusetype"),
        ("disability", "disabilitytype"),
    ],
)
def test_cin_lists_match_the_cin_xsd(shared_data, name, type_name):
    xsd = shared_data / "sfdl-liia-tools-pipeline" / "cin_xsd" / "CIN_schema_2024.xsd"
    assert set(code_list(name).codes) == _xsd_enum(xsd, type_name)


@pytest.mark.parametrize(
    "name,table,column",
    [
        ("legal_status", "Episodes", "LS"),
        ("reason_new_episode", "Episodes", "RNE"),
        ("reason_episode_ceased", "Episodes", "REC"),
        ("placement_type", "Episodes", "PLACE"),
        ("placement_provider", "Episodes", "PLACE_PROVIDER"),
        ("care_leaver_activity", "OC3", "ACTIV"),
        ("ethnicity", "Header", "ETHNIC"),
    ],
)
def test_903_lists_match_the_903_schema(shared_data, name, table, column):
    doc = yaml.safe_load((shared_data / "sfdl-liia-tools" / "schema_yml" / "SSDA903_schema_2024.yml").read_text())
    want = {str(c["code"]).strip() for c in doc["column_map"][table][column]["category"]}
    assert set(code_list(name).codes) == want


def test_accommodation_codes_expand_to_the_903_schema(shared_data):
    doc = yaml.safe_load((shared_data / "sfdl-liia-tools" / "schema_yml" / "SSDA903_schema_2024.yml").read_text())
    want = {str(c["code"]) for c in doc["column_map"]["OC3"]["ACCOM"]["category"]}
    cl = code_list("care_leaver_accommodation")
    got = {c + s for c in cl.codes if c != "0" for s in cl.extra["suitability"]} | {"0"}
    assert got == want


def test_exit_mappings_use_the_exit_vocabulary():
    for name in ("reason_for_closure", "reason_episode_ceased"):
        cl = code_list(name)
        assert set(cl.exit) == set(cl.codes)
        assert {v for v in cl.exit.values() if v} <= set(EXITS)
    assert "looked_after" in STAGES
