"""SSDA903 return as XML (``ssda903_<YYYY>.xml``, root ``EXPSSDA903``), one file per collection year.

The same content as the CSV tables of :mod:`cscflow.synth.writers.ssda903` (the same episodes,
reviews, missing episodes, adoption and care-leaver items), nested one ``CHILD`` per child: a
``HEADER`` with identity, UASC, AD1, OC3, missing (``AMISSING``), reviews (``AREVIEW``), previous
permanence (``PERMANENCE``) and placed-for-adoption (``AD_PLACED``) items, then the ``EPISODE``s.
Element names, order and lengths follow ``CLA_SSDA903_2021.xsd`` as kept in
``sfdl-csc-data-synthesizer`` (with ``generated_903.xml`` beside it for the shape; see
``../shared/data/PROVENANCE.md``). Children in OC3 only (care leavers no longer looked after) get a
header without episodes, as in the return.

>>> import datetime as dt, tempfile, numpy as np
>>> from cscflow.synth.county import County
>>> c = County(la="886", start=dt.date(2017, 4, 1), end=dt.date(2018, 3, 31))
>>> [p.name for p in write(c, Path(tempfile.mkdtemp()), np.random.default_rng(0))]
['ssda903_2018.xml']
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lxml import etree

from cscflow.synth.county import County
from cscflow.synth.writers._common import SEX_NUMERIC, add_years
from cscflow.synth.writers.ssda903 import Facts, _upn, facts_for

_EPISODE = [("DECOM", "DECOM"), ("RNE", "RNE"), ("LS", "LS"), ("CIN", "CIN"), ("PL", "PLACE"),
            ("PL_POST", "PL_POST"), ("HOME_POST", "HOME_POST"), ("URN", "URN"),
            ("PLACE_PROVIDER", "PLACE_PROVIDER"), ("DEC", "DEC"), ("REC", "REC"),
            ("REASON_PLACE_CHANGE", "REASON_PLACE_CHANGE")]  # fmt: skip


def write(county: County, out_dir: Path, rng: np.random.Generator, *, years: list[int] | None = None) -> list[Path]:
    """Write ``ssda903_<YYYY>.xml`` for each collection year of ``county`` (or ``years``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = facts_for(county)
    return [_write_year(facts, year, out_dir / f"ssda903_{year}.xml") for year in years or county.census_years()]


def _by_child(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in frame[["CHILD", *columns]].to_dict("records"):
        out[rec["CHILD"]].append(rec)
    return out


def _text(parent: Any, tag: str, value: object) -> None:
    etree.SubElement(parent, tag).text = "" if value is None else str(value)


def _write_year(facts: Facts, year: int, path: Path) -> Path:
    t = facts.year_tables(year)
    y1 = pd.Timestamp(year, 3, 31)
    tables = {
        name: _by_child(t[name], [c for c in t[name].columns if c not in ("CHILD", "DOB", "SEX")])
        for name in ("Episodes", "Reviews", "Missing", "OC3", "AD1", "PlacedAdoption", "PrevPerm")
    }
    uasc = set(t["UASC"]["CHILD"])
    mother = dict(zip(t["Header"]["CHILD"], t["Header"]["MOTHER"], strict=True))
    children = sorted(set(t["Header"]["CHILD"]) | set(t["OC3"]["CHILD"]))
    kids = facts.kids
    with etree.xmlfile(str(path), encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("EXPSSDA903"):
            xf.write("\n")
            for cid in children:
                kid = kids.loc[cid]
                child = etree.Element("CHILD")
                h = etree.SubElement(child, "HEADER")
                _text(h, "CHILDID", cid)
                _text(h, "UPN", _upn(kid["upn"], kid["birth_date"], y1, kid["uasc"]))
                _text(h, "SEX", SEX_NUMERIC.get(kid["sex"], ""))
                _text(h, "DOB", kid["birth_date"].strftime("%d/%m/%Y"))
                _text(h, "ETHNIC", kid["ethnicity"])
                _text(h, "UASC", "1" if cid in uasc else "")
                if cid in uasc:
                    _text(h, "DUC", add_years(kid["birth_date"], 18).strftime("%d/%m/%Y"))
                for ad in tables["AD1"].get(cid, ())[:1]:
                    for tag in ("DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"):
                        _text(h, tag, ad[tag])
                for oc in tables["OC3"].get(cid, ())[:1]:
                    for tag in ("IN_TOUCH", "ACTIV", "ACCOM"):
                        _text(h, tag, oc[tag])
                for m in tables["Missing"].get(cid, ())[:366]:
                    el = etree.SubElement(h, "AMISSING")
                    _text(el, "MISSING", m["MISSING"])
                    _text(el, "MIS_START", m["MIS_START"])
                    _text(el, "MIS_END", m["MIS_END"])
                for r in tables["Reviews"].get(cid, ())[:52]:
                    el = etree.SubElement(h, "AREVIEW")
                    _text(el, "REVIEW", r["REVIEW"])
                    _text(el, "REVIEW_CODE", r["REVIEW_CODE"])
                _text(h, "MOTHER", mother.get(cid, ""))
                _text(h, "MC_DOB", "")
                for p in tables["PrevPerm"].get(cid, ())[-1:]:
                    el = etree.SubElement(h, "PERMANENCE")
                    for tag in ("PREV_PERM", "LA_PERM", "DATE_PERM"):
                        _text(el, tag, p[tag])
                for p in tables["PlacedAdoption"].get(cid, ())[:366]:
                    el = etree.SubElement(h, "AD_PLACED")
                    _text(el, "DATE_PLACED", p["DATE_PLACED"])
                    _text(el, "DATE_PLACED_CEASED", p["DATE_PLACED_CEASED"])
                    _text(el, "REASON_PLACED_CEASED", p["REASON_PLACED_CEASED"])
                for e in tables["Episodes"].get(cid, ())[:366]:
                    el = etree.SubElement(child, "EPISODE")
                    for tag, col in _EPISODE:
                        _text(el, tag, e[col])
                xf.write(child)
                xf.write("\n")
    return path
