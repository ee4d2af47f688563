"""The bundled code lists agree with the schemas LAs' returns are validated against."""

import copy
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


CIN_LISTS = [
    ("ethnicity", "ethnicitytype"),
    ("referral_source", "referralsourcetype"),
    ("primary_need", "primaryneedcodetype"),
    ("reason_for_closure", "reasonforclosuretype"),
    ("category_of_abuse", "categoryofabusetype"),
    ("disability", "disabilitytype"),
    ("assessment_factors", "assessmentfactorstype"),
]


@pytest.mark.parametrize("name,type_name", CIN_LISTS)
def test_cin_lists_match_every_cin_xsd(shared_data, name, type_name):
    """Every census year the CIN reader accepts (the XSDs 2017-2026): the codes valid that year are
    exactly the schema's."""
    xsds = sorted((shared_data / "sfdl-liia-tools-pipeline" / "cin_xsd").glob("CIN_schema_20*.xsd"))
    assert len(xsds) >= 7
    for xsd in xsds:
        year = int(xsd.stem[-4:])
        assert code_list(name).valid_in(year) == _xsd_enum(xsd, type_name), xsd.name
    assert set(code_list(name).codes) == set().union(*(_xsd_enum(x, type_name) for x in xsds))


LISTS_903 = [
    ("legal_status", "Episodes", "LS"),
    ("reason_new_episode", "Episodes", "RNE"),
    ("reason_episode_ceased", "Episodes", "REC"),
    ("placement_type", "Episodes", "PLACE"),
    ("placement_provider", "Episodes", "PLACE_PROVIDER"),
    ("care_leaver_activity", "OC3", "ACTIV"),
    ("ethnicity", "Header", "ETHNIC"),
]


@pytest.mark.parametrize("name,table,column", LISTS_903)
def test_903_lists_match_the_903_schema(shared_data, name, table, column):
    doc = yaml.safe_load((shared_data / "sfdl-liia-tools" / "schema_yml" / "SSDA903_schema_2024.yml").read_text())
    want = {str(c["code"]).strip() for c in doc["column_map"][table][column]["category"]}
    assert code_list(name).valid_in(2024) == want


def schemas_903(shared_data) -> dict[int, dict]:
    """The SSDA903 schema of each year liia-tools describes: the 2017 schema with each year's diff
    applied in turn (2019, 2022, 2024, 2025, 2026), as ``{year: column_map}``."""
    folder = shared_data / "sfdl-liia-tools-pipeline" / "schema_yml"
    cmap = yaml.safe_load((folder / "SSDA903_schema_2017.yml").read_text())["column_map"]
    out = {2017: copy.deepcopy(cmap)}
    for diff in sorted(folder.glob("SSDA903_schema_20*.diff.yml")):
        for key, change in yaml.safe_load(diff.read_text()).items():
            parts = key.split(".")
            if change["type"] == "modify" and parts[-1] == "category":
                cmap[parts[1]][parts[2]]["category"] = change["value"]
        out[int(diff.name[15:19])] = copy.deepcopy(cmap)
    return out


@pytest.mark.parametrize("name,table,column", LISTS_903)
def test_903_lists_match_every_903_schema_year(shared_data, name, table, column):
    """Every collection year from 2017: the codes valid that year are exactly the schema's (E43/E44
    to 2018, F3/P3 to 2021, H5/P2 to 2024, ...), and the list holds every code of every year."""
    years = schemas_903(shared_data)
    assert sorted(years) == [2017, 2019, 2022, 2024, 2025, 2026]
    seen = set()
    for year, cmap in years.items():
        want = {str(c["code"]).strip() for c in cmap[table.lower()][column]["category"]}
        seen |= want
        assert code_list(name).valid_in(year) == want, year
        assert code_list(name).valid_in(year + 1) == want or year + 1 in years, year + 1
    assert set(code_list(name).codes) == seen


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


def test_every_rec_code_has_an_exit_and_a_route_that_agree():
    """A route out of care names the exit the stay ends with: home = returned home, adoption and
    SGO/CAO = permanence, 18+ = left care at 18, other = closed; X1 is neither."""
    cl = code_list("reason_episode_ceased")
    assert set(cl.route) == set(cl.codes) == set(cl.exit)
    implied = {"home": "returned_home", "adoption": "permanence", "sgo/cao": "permanence",
               "18+": "left_care_18", "other": "closed", None: None}
    for code, route in cl.route.items():
        assert cl.exit[code] == implied[route], code
