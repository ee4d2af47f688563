"""A person list from the case-management system: the CSC side's names for linkage.

The statutory returns (Annex A, CIN census, SSDA903) carry no names, so an LA links its legal
department's sheet against the person list of its case-management system (Liquidlogic, Mosaic,
Eclipse...): one row per child with the LA child id, surname, forename(s), date of birth and
sex. :func:`load_people` puts it in the restricted ``identifiers`` table (the child id
pseudonymised with the workspace key, so the rows join the children loaded from the returns)
under the file's name; loading the same file again replaces it. The children it names that no return gave a birth
month (those only in an event log) take the list's (:func:`fill_birth_months`). A multi-LA workspace (regional or
national work) takes each LA's list with its LA code (the LA is part of each child's identity), under
a name of its own per LA.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cscflow.linkage.model import LinkageError
from cscflow.sources.base import source_name
from cscflow.sources.values import clean_id, match_headers, parse_dates
from cscflow.workspace import WorkspaceLike

FIELDS: dict[str, list[str]] = {
    "child_id": ["child id", "la child id", "/^(la )?child (unique )?id/", "/(person|client) (id|number)/",
                 "/^id$/"],
    "surname": ["surname", "/(last|family) name/", "/surname/"],
    "forenames": ["forenames", "forename", "/fore ?names?/", "/first names?/", "/given names?/"],
    "birth_date": ["date of birth", "dob", "/date of birth/", "/\\bdob\\b/", "/birth/"],
    "sex": ["sex", "gender", "/\\bsex\\b/", "/gender/"],
}


def read_people(path: Path) -> pd.DataFrame:
    """The person list as child_id, surname, forenames, birth_date, sex (CSV or xlsx)."""
    path = Path(path)
    if not path.exists():
        raise LinkageError(f"{path}: no such file", hint="give the case-management system's person list (CSV)")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = pd.read_excel(path, dtype=str)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    found = match_headers(list(frame.columns), FIELDS, required=("child_id",), where=path.name)
    out = pd.DataFrame({f: frame.iloc[:, i] for f, i in found.items()})
    for f in FIELDS:
        if f not in out:
            out[f] = None
    out["child_id"] = out["child_id"].map(clean_id)
    out["birth_date"] = parse_dates(out["birth_date"]) if out["birth_date"].notna().any() else pd.NaT
    return out[out["child_id"].notna()].reset_index(drop=True)


def load_people(ws: WorkspaceLike, path: Path, la: str | None = None) -> int:
    """Write the person list at ``path`` into ``identifiers``; returns the rows written.

    ``la``: the list's LA (3-digit DfE code), needed in a multi-LA workspace and ignored otherwise.
    """
    people = read_people(path)
    name = source_name(path)
    if ws.multi_la:
        if not la:
            raise LinkageError(f"{Path(path).name}: a multi-LA workspace needs the LA of the person list",
                               hint="give its 3-digit DfE LA code (`cscflow link --people FILE --la CODE`)")
        name = name if "/" in name else f"la={la}/{name}"
    source = f"people:{name}"
    if "identifiers" in ws.tables():
        ws.delete("identifiers", {"source": source})
    frame = pd.DataFrame({
        "child_id": list(ws.pseudonymise(people["child_id"].tolist(), la=la if ws.multi_la else None)),
        "source": source,
        "source_child_id": people["child_id"].astype(str),
        "upn": None,
        "surname": people["surname"],
        "forenames": people["forenames"],
        "birth_date": pd.to_datetime(people["birth_date"], errors="coerce").dt.date,
    })
    written = ws.write("identifiers", frame)
    fill_birth_months(ws, frame)
    return written


def fill_birth_months(ws: WorkspaceLike, people: pd.DataFrame) -> int:
    """Give the children the returns left without a birth month (those only in an event log, whose rows carry no
    date of birth) the month of birth on the person list; returns how many were filled. A birth month a return gave
    is kept. Without it a child has no age: the forecast's age bands and its end of care at 18, the analyses by age,
    all read such a child as of unknown age (two children in three in the demo county, its event log's history)."""
    if "children" not in ws.tables():
        return 0
    born = pd.to_datetime(pd.Series(people["birth_date"].to_numpy()), errors="coerce")
    month = pd.Series(born.dt.to_period("M").dt.start_time.to_numpy(), index=people["child_id"].to_numpy())
    month = month[month.notna() & ~month.index.duplicated()]
    children = ws.execute(ws.table("children"))
    missing = children["birth_month"].isna() & children["child_id"].isin(month.index)
    if not missing.any():
        return 0
    children.loc[missing, "birth_month"] = pd.to_datetime(children.loc[missing, "child_id"].map(month)).dt.date
    ws.write("children", children, mode="replace")
    return int(missing.sum())

