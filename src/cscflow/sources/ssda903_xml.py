"""The SSDA903 XML return (root ``EXPSSDA903``) as the same tables the CSV return has.

Each ``<CHILD>`` holds one ``<HEADER>`` (the child, with the UASC flag, OC3 care-leaver
fields, ``<AMISSING>``, ``<AREVIEW>``, ``<PERMANENCE>``, ``<OC2>``, adoption fields) and
its ``<EPISODE>`` elements (element names as in the Expanded SSDA903 Return schema,
``CLA_SSDA903_2021.xsd``; ``PL`` is the CSV's ``PLACE``). The records of the file are
the HEADER and EPISODE elements, numbered 1, 2, ... in document order; rows of the
sub-tables (missing, reviews ...) carry their HEADER's number. Streamed and safe
(see :mod:`cscflow.sources.cin_stream`).

>>> sorted(SUB_TABLES)[:3]
['ad1', 'missing', 'oc2']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cscflow.errors import SourceError
from cscflow.sources.cin_stream import XmlTruncated, children_named, iter_records, local, sniff_root, text_of

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


def read_tables(path: Path) -> tuple[dict[str, pd.DataFrame], int, list[dict], list[str]]:
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
    rows: dict[str, list[dict]] = {"header": [], "episodes": [], **{t: [] for t in SUB_TABLES}}
    count = 0
    quarantine: list[dict] = []
    warnings: list[str] = []
    try:
        for child in iter_records(path, "CHILD"):
            header = next(iter(children_named(child, "HEADER")), None)
            child_id = (text_of(header, "CHILDID") or "") if header is not None else ""
            if header is not None:
                count += 1
                row = count
                rows["header"].append({"_row": row, "CHILD": child_id,
                                       **{f: text_of(header, f) or "" for f in HEADER_FIELDS}})
                for table, (holder, fields) in SUB_TABLES.items():
                    blocks = children_named(header, holder) if holder else [header]
                    for block in blocks:
                        values = {f: text_of(block, f) or "" for f in fields}
                        if holder or any(values.values()):
                            rows[table].append({"_row": row, "CHILD": child_id, **values})
            for episode in children_named(child, "EPISODE"):
                count += 1
                values = {f: text_of(episode, f) or "" for f in EPISODE_FIELDS}
                values["PLACE"] = values.pop("PL") or values["PLACE"]
                rows["episodes"].append({"_row": count, "CHILD": child_id, **values})
            unknown = {local(c.tag) for c in child if isinstance(c.tag, str)} - {"HEADER", "EPISODE"}
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
