"""The SSDA903 XML return (root ``EXPSSDA903``) as the same tables the CSV return has.

Each ``<CHILD>`` holds one ``<HEADER>`` (the child, with the UASC flag, OC3 care-leaver
fields, ``<AMISSING>``, ``<AREVIEW>``, ``<PERMANENCE>``, ``<OC2>``, adoption fields) and
its ``<EPISODE>`` elements (element names as in the Expanded SSDA903 Return schema,
``CLA_SSDA903_2021.xsd``; ``PL`` is the CSV's ``PLACE``). The records of the file are
the HEADER and EPISODE elements, numbered 1, 2, ... in document order; rows of the
sub-tables (missing, reviews ...) carry their HEADER's number. Streamed and safe
(see :mod:`cscflow.sources.cin.stream`).

>>> sorted(SUB_TABLES)[:3]
['ad1', 'missing', 'oc2']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cscflow.errors import SourceError
from cscflow.sources.cin.stream import XmlTruncated, iter_records, local, sniff_root

HEADER_FIELDS = ("UPN", "SEX", "DOB", "ETHNIC", "UASC", "MOTHER", "MC_DOB")
EPISODE_FIELDS = ("DECOM", "RNE", "LS", "CIN", "PL", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                  "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN")  # fmt: skip
#: HEADER children that form the other 903 tables: table -> (element holding them or None, fields).
SUB_TABLES = {
    "uasc": (None, ("DUC",)),
    "oc3": (None, ("IN_TOUCH", "ACTIV", "ACCOM")),
    "ad1": (None, ("DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR")),
    "missing": ("AMISSING", ("MISSING", "MIS_START", "MIS_END")),
    "reviews": ("AREVIEW", ("REVIEW", "REVIEW_CODE")),
    "prev_perm": ("PERMANENCE", ("PREV_PERM", "LA_PERM", "DATE_PERM")),
    "oc2": ("OC2", ("SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK",
                    "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED")),
    "placed_adoption": ("AD_PLACED", ("DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED")),
}


def read_tables(path: Path) -> tuple[dict[str, pd.DataFrame], int, list[dict[str, Any]], list[str]]:
    """Tables of an EXPSSDA903 file: ``({table: frame with _row}, records read, quarantine, warnings)``.

    Frames hold text columns named as in the CSV return (``CHILD``, ``DECOM``, ``PLACE`` ...).
    """
    name = Path(path).name
    root = sniff_root(path)
    if root == "Message":
        raise SourceError(f"{name}: this is a CIN census XML file, not an SSDA903 return",
                          hint="load it with --format cin")
    if root != "EXPSSDA903":
        raise SourceError(f"{name}: the root element is <{root}>; an SSDA903 XML return has <EXPSSDA903>",
                          hint="check the file is a 903 XML export, or give the right --format")
    rows: dict[str, list[dict[str, Any]]] = {"header": [], "episodes": [], **{t: [] for t in SUB_TABLES}}
    count = 0
    quarantine: list[dict[str, Any]] = []
    warnings: list[str] = []
    try:
        for child in iter_records(path, "CHILD"):
            header = None
            episodes = []
            unknown = set()
            for part in child:
                if not isinstance(part.tag, str):
                    continue
                tag = _local(part.tag)
                if tag == "EPISODE":
                    episodes.append(part)
                elif tag == "HEADER":
                    if header is None:
                        header = part
                else:
                    unknown.add(tag)
            child_id = ""
            if header is not None:
                fields, blocks = _texts(header, holders=_HOLDERS)
                child_id = _strip(fields.get("CHILDID"))
                count += 1
                row = count
                rows["header"].append({"_row": row, "CHILD": child_id,
                                       **{f: _strip(fields.get(f)) for f in HEADER_FIELDS}})
                for table, (holder, names) in SUB_TABLES.items():
                    if holder is None:
                        values = {f: _strip(fields.get(f)) for f in names}
                        if any(values.values()):
                            rows[table].append({"_row": row, "CHILD": child_id, **values})
                        continue
                    for block in blocks.get(holder, ()):
                        block_fields = _texts(block)[0]
                        rows[table].append({"_row": row, "CHILD": child_id,
                                            **{f: _strip(block_fields.get(f)) for f in names}})
            for episode in episodes:
                count += 1
                fields = _texts(episode)[0]
                values = {f: _strip(fields.get(f)) for f in EPISODE_FIELDS}
                values["PLACE"] = values.pop("PL") or values["PLACE"]
                rows["episodes"].append({"_row": count, "CHILD": child_id, **values})
            if unknown:
                warnings.append(f"{name}: ignored unexpected element(s) {', '.join(sorted(unknown))} in <CHILD>")
    except XmlTruncated as err:
        if count == 0:
            raise SourceError(f"{name}: not well-formed XML (line {err.line}: {err.message})",
                              hint="the file is damaged or truncated; export the return again") from None
        count += 1
        quarantine.append({"source_row": count, "column": "(xml)", "value": "",
                           "problem": f"XML broken at line {err.line} ({err.message}); records after it were not read",
                           "hint": "the file is damaged or truncated; export the return again"})
        warnings.append(f"{name}: XML broken at line {err.line}; kept the records read before it")
    if count == 0:
        raise SourceError(f"{name}: no <CHILD> records in the SSDA903 XML file",
                          hint="check the export holds children (<EXPSSDA903><CHILD>...)")
    frames = {t: pd.DataFrame(r) for t, r in rows.items() if r}
    return frames, count, quarantine, sorted(set(warnings))


_HOLDERS = frozenset(holder for holder, _fields in SUB_TABLES.values() if holder)
#: tag -> local name (bounded, so that made-up tags cannot grow it without limit)
_LOCAL: dict[str, str] = {}


def _local(tag: str) -> str:
    name = _LOCAL.get(tag)
    if name is None:
        name = local(tag)
        if len(_LOCAL) < 10_000:
            _LOCAL[tag] = name
    return name


def _texts(elem: Any, holders: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, Any]]:
    """Raw text of each direct child by local name (the first of a repeated name counts, as with
    :func:`cscflow.sources.cin.stream.text_of`), and the children named in ``holders``, listed by name."""
    fields: dict[str, Any] = {}
    blocks: dict[str, Any] = {}
    for part in elem:
        if not isinstance(part.tag, str):
            continue
        tag = _local(part.tag)
        if tag not in fields:
            fields[tag] = part.text
        if tag in holders:
            blocks.setdefault(tag, []).append(part)
    return fields, blocks


def _strip(raw: str | None) -> str:
    """Stripped text, "" when missing (``text_of(...) or ""``)."""
    return raw.strip() if raw else ""
