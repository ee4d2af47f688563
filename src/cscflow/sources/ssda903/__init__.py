"""Read SSDA903 (children looked after) returns: the CSV tables and the EXPSSDA903 XML.

Give every file of every year at once: :func:`read` recognises each CSV table by
its columns (Header, Episodes, UASC, OC3, Reviews, Missing, AD1, PlacedAdoption,
PrevPerm, OC2, social-worker episodes, DoLo), reads the XML return into the same
tables, then de-duplicates children and episodes across the yearly returns and
applies the documented episode repairs of :mod:`cscflow.sources.ssda903.repairs`.

- Header (and UASC) -> ``children`` and ``identifiers``; a child in several returns
  keeps the latest return's values (differences are counted in the warnings).
- Episodes -> ``looked_after`` stays: start DECOM, end DEC, outcome from REC
  (:data:`REC_OUTCOMES`), attrs ``rne``, ``legal_status``, ``cin``, ``placement``,
  ``placement_provider``, ``rec``, ``reason_place_change``, ``return_year``.
- OC3 -> one ``care_leaver`` stay per child from the day they left care (the end
  of their last episode, else their 18th birthday); attrs ``in_touch``,
  ``activity``, ``accommodation``.
- Reviews -> ``reviews`` (stage ``looked_after``, date REVIEW, code REVIEW_CODE); Missing -> ``missing``
  (kind ``missing`` for M, ``away`` for A; start MIS_START, end MIS_END). A row with a date that is not
  one (or an end before its start) is quarantined.
- Reviews, Missing, AD1, PlacedAdoption, PrevPerm, OC2, SW episodes and DoLo rows
  also become child attributes (counts and codes).

Every data row (CSV) or HEADER/EPISODE element (XML) is loaded or quarantined.

>>> REC_OUTCOMES["E11"], REC_OUTCOMES["E4A"], REC_OUTCOMES["X1"]
('permanence', 'returned_home', 'looked_after')
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cscflow.errors import SourceError
from cscflow.model.codes import rec_outcomes
from cscflow.sources.base import (
    CHILD_COLUMNS,
    EPISODE_COLUMNS,
    IDENTIFIER_COLUMNS,
    QUARANTINE_COLUMNS,
    ReadResult,
    source_name,
)
from cscflow.sources.ssda903.dated import dated_rows
from cscflow.sources.ssda903.repairs import repair_episodes
from cscflow.sources.values import (
    bad_dates,
    clean_id,
    closest,
    ethnicity_code,
    implausible_dates,
    map_values,
    parse_dates,
    sex_code,
    sniff_encoding,
)

FORMAT = "903"

#: REC (reason episode ceased, SSDA903 guide) -> outcome of the looked_after stay: every code of every
#: collection year, from the code list (:func:`cscflow.model.codes.rec_outcomes`); an unknown code -> closed
REC_OUTCOMES: dict[str, str] = rec_outcomes()

#: table -> (the column that identifies it, the columns it must have, file-name words)
TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "episodes": ("DECOM", ("CHILD", "DECOM", "RNE", "LS", "DEC", "REC"), ("episode",)),
    "uasc": ("DUC", ("CHILD", "DUC"), ("uasc",)),
    "oc3": ("IN_TOUCH", ("CHILD", "IN_TOUCH", "ACTIV", "ACCOM"), ("oc3",)),
    "reviews": ("REVIEW_CODE", ("CHILD", "REVIEW", "REVIEW_CODE"), ("review",)),
    "missing": ("MIS_START", ("CHILD", "MISSING", "MIS_START"), ("missing",)),
    "ad1": ("DATE_INT", ("CHILD", "DATE_INT"), ("ad1",)),
    "placed_adoption": ("DATE_PLACED", ("CHILD", "DATE_PLACED"), ("placed",)),
    "prev_perm": ("PREV_PERM", ("CHILD", "PREV_PERM"), ("prevperm", "prev_perm", "previous_perm")),
    "oc2": ("SDQ_SCORE", ("CHILD",), ("oc2",)),
    "sw_episodes": ("SW_ID", ("CHILD",), ("sw_episode", "social_worker")),
    "dolo": ("DOLO_START", ("CHILD",), ("dolo",)),
    "header": ("ETHNIC", ("CHILD", "SEX", "DOB", "ETHNIC"), ("header",)),
}
_DATE_HINT = "write dates as dd/mm/yyyy and export the return again"
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d\d)(?:[_\-](\d\d))?(?!\d)")


@dataclass
class _File:
    index: int
    path: Path
    name: str
    rows_read: int = 0
    year: int | None = None
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    repairs: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[pd.DataFrame] = field(default_factory=list)
    missing: list[pd.DataFrame] = field(default_factory=list)

    def bad(self, row: int, column: str, value: object, problem: str, hint: str) -> None:
        self.quarantine.append({"source_row": int(row), "column": column, "value": "" if value is None else str(value),
                                "problem": problem, "hint": hint})


def read(paths: list[Path], *, la: str | None = None, **options: Any) -> list[ReadResult]:
    """Read SSDA903 CSV tables and/or EXPSSDA903 XML files of one LA (any years), one result per file.

    ``la`` is the 3-digit LA code given to the children (903 files do not carry it).

    >>> from cscflow.sources import ssda903
    >>> ssda903.read([])
    []
    """
    files = [_File(i, Path(p), source_name(p)) for i, p in enumerate(paths)]
    tables: list[tuple[_File, str, pd.DataFrame]] = []
    for f in files:
        if not f.path.is_file():
            raise SourceError(f"{f.name}: file not found", hint="check the path")
        if _is_xml(f.path):
            from cscflow.sources.ssda903.xml import read_tables

            frames, count, quarantine, warnings = read_tables(f.path)
            f.rows_read, f.quarantine, f.warnings = count, quarantine, warnings
            tables += [(f, name, frame) for name, frame in frames.items()]
        else:
            name, frame = _read_csv(f)
            tables.append((f, name, frame))
    for f in files:
        f.year = _year_of(f, [t for t in tables if t[0] is f])
    known = {f.year for f in files if f.year}
    if len(known) == 1:  # one return's tables (a Header or OC3 CSV has no episode dates): that return's year
        for f in files:
            f.year = f.year or next(iter(known))
    return _Assembler(files, tables, la=la).run()


# ------------------------------------------------------------------------------------ CSV files


def _is_xml(path: Path) -> bool:
    if path.suffix.lower() == ".xml":
        return True
    with open(path, "rb") as fh:
        head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def _read_csv(f: _File) -> tuple[str, pd.DataFrame]:
    if f.path.stat().st_size == 0:
        raise SourceError(f"{f.name}: the file is empty", hint="export the 903 table again")
    encoding = sniff_encoding(f.path)
    with open(f.path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            while header is not None and not any(c.strip() for c in header):
                header = next(reader, None)
            if header is None:
                raise SourceError(f"{f.name}: the file has no header row", hint="export the 903 table again")
            columns = [c.strip().lstrip("\ufeff").upper() for c in header]
            table = _detect(f, columns)
            width = len(columns)
            records, rows = [], []
            for line in reader:
                if not any(c.strip() for c in line):
                    continue
                f.rows_read += 1
                if len(line) > width and any(c.strip() for c in line[width:]):
                    f.bad(f.rows_read, "(row)", ",".join(line)[:80],
                          f"row has {len(line)} fields, the header has {width}",
                          "remove the extra commas or quote values that contain commas")
                    continue
                line = (line + [""] * width)[:width]
                records.append([c.strip() for c in line])
                rows.append(f.rows_read)
        except csv.Error as err:
            raise SourceError(f"{f.name}: not a readable CSV ({err})", hint="export the table again as CSV") from None
    frame = pd.DataFrame(records, columns=columns, dtype=object) if records else pd.DataFrame(columns=columns)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame.insert(0, "_row", rows)
    return table, frame


def _shown(column: str, width: int = 40) -> str:
    """A column name as an error quotes it: on one line, at most ``width`` characters (a header cell holding an
    unclosed quote runs on through the whole file).

    >>> _shown('"CHILD,DECOM\\nA1,2020-01-01' + "x" * 50)
    '"CHILD,DECOM A1,2020-01-01xxxxxxxxxxx...'
    """
    text = " ".join(str(column).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _detect(f: _File, columns: list[str]) -> str:
    found = set(columns)
    stem = f.path.stem.lower().replace(" ", "_")
    by_key = [t for t, (key, _r, _w) in TABLES.items() if key in found]
    by_name = [t for t, (_k, _r, words) in TABLES.items() if any(w in stem for w in words)]
    for table in (by_key or by_name)[:1]:
        required = TABLES[table][1]
        missing = [c for c in required if c not in found]
        if missing:
            spare = [c for c in columns if c not in required]
            near = {m: [c for c in spare if m in c] or closest(m, spare) for m in missing}
            detail = "; ".join(f"{m}" + (f" (closest: {', '.join(map(_shown, near[m]))})" if near[m] else "")
                               for m in missing)
            raise SourceError(
                f"{f.name}: the SSDA903 {table} table lacks column(s) {detail}; "
                f"columns found: {', '.join(map(_shown, columns))}; expected: {', '.join(required)}",
                hint="rename the columns to the DfE 903 names (e.g. CHILD, DECOM, DEC) and load again",
            )
        return table
    if "CHILDID" in found or "LACHILDID" in found or "REFERRAL" in " ".join(columns):
        hint = "this looks like another return; give the right --format"
    else:
        hint = "give one of the DfE 903 tables (Header, Episodes, UASC, OC3, Reviews, Missing ...), or the right --format"
    raise SourceError(f"{f.name}: not an SSDA903 table: columns found {', '.join(map(_shown, columns[:20]))}; "
                      "expected CHILD with DECOM (Episodes) or SEX, DOB, ETHNIC (Header)", hint=hint)


#: A collection year found from a file's dates must hold at least this share of them: a few dates past the year's
#: end (the d2i validator's sample: 12 of its 8,687 episode dates are 1 April 2018, the rest by 31 March 2018)
#: are errors in a return, not its year.
YEAR_SHARE = 0.01


def _year_of(f: _File, tables: list[Any]) -> int | None:
    """The collection year (ending 31 March) of a file: from its name or folder, else from its episodes' dates
    (DECOM and DEC): the latest year ending 31 March that holds at least :data:`YEAR_SHARE` of them."""
    for text in (f.path.name, f.path.parent.name):
        match = _YEAR_IN_NAME.search(text)
        if match:
            return int(match.group(1)[:2] + match.group(2)) if match.group(2) else int(match.group(1))
    years: list[pd.Series] = []
    for _f, name, frame in tables:
        for col in ("DECOM", "DEC") if name == "episodes" else ():
            parsed = parse_dates(frame[col]).dropna()
            years.append(parsed.dt.year + (parsed.dt.month >= 4).astype(int))
    every = pd.concat(years) if years else pd.Series([], dtype="int64")
    if every.empty:
        return None
    counts = every.value_counts().sort_index()
    held = counts[counts >= max(1.0, YEAR_SHARE * len(every))]
    return int(held.index.max())


# ------------------------------------------------------------------------------ assembling


class _Assembler:
    """Checks rows, merges the tables of every file and builds one ReadResult per file."""

    def __init__(self, files: list[_File], tables: list[Any], *, la: str | None) -> None:
        self.files = files
        self.tables = tables
        self.la = la
        self.child_attrs: dict[str, dict[str, Any]] = {}
        self.child_home: dict[str, int] = {}
        self.dob: dict[str, pd.Timestamp] = {}

    def run(self) -> list[ReadResult]:
        by_table: dict[str, list[Any]] = {}
        for f, name, frame in self.tables:
            frame = frame.copy()
            frame["_year"] = self._row_years(f, frame)
            frame["CHILD"] = map_values(frame["CHILD"], clean_id)
            blank = frame["CHILD"].isna()
            for row in frame.loc[blank, "_row"]:
                f.bad(row, "CHILD", "", "row has no child id (CHILD)", "give every row the LA child id")
            by_table.setdefault(name, []).append((f, frame.loc[~blank]))
        headers = self._headers(by_table.get("header", []))
        episodes = self._episodes(by_table.get("episodes", []))
        self._uasc(by_table.get("uasc", []), headers)
        self._attr_tables(by_table)
        self._care_leavers(by_table.get("oc3", []), episodes)
        self._children(headers)
        return [self._result(f) for f in self.files]

    @staticmethod
    def _row_years(f: _File, frame: pd.DataFrame) -> pd.Series:
        if "YEAR" in frame.columns:
            years = pd.to_numeric(frame["YEAR"], errors="coerce")
            years = years.where(years.abs() < 10_000)  # 'INF' or a stray number is no collection year
            return years.fillna(f.year if f.year else -1).astype(int)
        return pd.Series(f.year if f.year else -1, index=frame.index, dtype=int)

    def _dates(self, f: _File, frame: pd.DataFrame, column: str, *, required: bool, what: str) -> tuple[Any, ...]:
        """Parsed dates and a mask of rows with a problem (quarantined here)."""
        values = frame[column] if column in frame.columns else pd.Series("", index=frame.index)
        parsed = parse_dates(values)
        bad = bad_dates(values, parsed)
        odd = implausible_dates(parsed)
        problem = pd.Series(False, index=frame.index)
        for row, value in zip(frame.loc[bad, "_row"], values[bad], strict=True):
            f.bad(row, column, value, f"{what} is not a date", _DATE_HINT)
        problem |= bad
        mask = odd.notna() & ~bad
        for row, value, why in zip(frame.loc[mask, "_row"], values[mask], odd[mask], strict=True):
            f.bad(row, column, value, f"{what}: {why}", "correct the date in the case system and re-export")
        problem |= mask
        if required:
            missing = parsed.isna() & ~bad
            for row in frame.loc[missing, "_row"]:
                f.bad(row, column, "", f"{what} is missing", f"every row needs {column}")
            problem |= missing
        return parsed, problem

    # -- header -------------------------------------------------------------------------------
    def _headers(self, parts: list[Any]) -> dict[str, dict[str, Any]]:
        best: dict[str, dict[str, Any]] = {}
        conflicts = 0
        for f, frame in parts:
            dob, problem = self._dates(f, frame, "DOB", required=False, what="date of birth (DOB)")
            frame = frame.assign(_dob=dob).loc[~problem]
            sexes = map_values(frame["SEX"], sex_code)
            ethnic = map_values(frame["ETHNIC"], ethnicity_code)
            for rec, sex, eth in zip(_records(frame), sexes, ethnic, strict=True):
                child = rec["CHILD"]
                birth = rec["_dob"].date() if pd.notna(rec["_dob"]) else None
                entry = {"file": f.index, "year": rec["_year"], "sex": sex, "ethnicity": eth, "birth_date": birth,
                         "upn": rec.get("UPN") or None, "uasc": (rec.get("UASC") or "") in ("1", "Y", "y", "True"),
                         "row": rec["_row"]}
                old = best.get(child)
                if old is not None and (old["sex"], old["birth_date"]) != (sex, birth):
                    conflicts += 1
                if old is None or entry["year"] >= old["year"]:
                    if old is not None:
                        entry["uasc"] = entry["uasc"] or old["uasc"]
                    best[child] = entry
                if birth is not None:
                    self.dob.setdefault(child, pd.Timestamp(birth))
        if conflicts:
            self.files[0].warnings.append(
                f"{conflicts} header row(s) give a child a different sex or date of birth than another return; "
                "the latest return's values were kept")
        return best

    # -- episodes -----------------------------------------------------------------------------
    def _episodes(self, parts: list[Any]) -> pd.DataFrame:
        pool = []
        for f, frame in parts:
            decom, bad_start = self._dates(f, frame, "DECOM", required=True, what="episode start (DECOM)")
            dec, bad_end = self._dates(f, frame, "DEC", required=False, what="episode end (DEC)")
            order = decom.notna() & dec.notna() & (dec < decom) & ~bad_start & ~bad_end
            for row, value, start in zip(frame.loc[order, "_row"], frame.loc[order, "DEC"], decom[order], strict=True):
                f.bad(row, "DEC", value, f"episode ends before it starts ({start:%d/%m/%Y})",
                      "correct DECOM or DEC in the case system and re-export")
            good = ~(bad_start | bad_end | order)
            part = frame.loc[good]
            pool.append(pd.DataFrame({
                "child": part["CHILD"].to_numpy(), "la_key": part.get("LA", pd.Series("", index=part.index)).to_numpy(),
                "year": part["_year"].to_numpy(), "decom": decom[good].to_numpy(), "dec": dec[good].to_numpy(),
                **{low: part.get(col, pd.Series("", index=part.index)).to_numpy() for low, col in (
                    ("rne", "RNE"), ("ls", "LS"), ("cin", "CIN"), ("place", "PLACE"),
                    ("place_provider", "PLACE_PROVIDER"), ("rec", "REC"), ("reason_place_change", "REASON_PLACE_CHANGE"))},
                "ref": [(f.index, int(r), f.name) for r in part["_row"]],
            }))
        if not pool:
            return pd.DataFrame(columns=["child", "decom", "dec"])
        eps = pd.concat(pool, ignore_index=True)
        for col in ("rne", "ls", "cin", "place", "place_provider", "rec", "reason_place_change", "la_key"):
            eps[col] = eps[col].fillna("").astype(str).str.strip()
        eps["rec"] = eps["rec"].replace("", None)
        kept, repairs = repair_episodes(eps)
        for ref, rule, detail in repairs:
            self.files[ref[0]].repairs.append({"source_row": ref[1], "repair": rule, "detail": detail})
        for rec in _records(kept):
            f = self.files[rec["ref"][0]]
            rec_code = rec["rec"] if isinstance(rec["rec"], str) and rec["rec"] else None
            end = rec["dec"] if pd.notna(rec["dec"]) else None
            outcome = None if end is None else REC_OUTCOMES.get(rec_code or "", "closed" if rec_code else None)
            attrs = {"rne": rec["rne"], "legal_status": rec["ls"], "cin": rec["cin"], "placement": rec["place"],
                     "placement_provider": rec["place_provider"], "rec": rec_code,
                     "reason_place_change": rec["reason_place_change"], "return_year": int(rec["year"]) if rec["year"] > 0 else None,
                     "end_estimated": bool(rec.get("end_estimated")) or None}
            f.episodes.append(_stay(rec["child"], "looked_after", rec["decom"], end, outcome, attrs, rec["ref"][1]))
            self.child_home.setdefault(rec["child"], f.index)
        return kept

    # -- UASC, attribute tables, OC3 ----------------------------------------------------------
    def _uasc(self, parts: list[Any], headers: dict[str, Any]) -> None:
        for f, frame in parts:
            for child in frame["CHILD"]:
                self.child_attrs.setdefault(child, {})["uasc"] = True
                self.child_home.setdefault(child, f.index)
            if "SEX" in frame.columns:
                for child, sex in zip(frame["CHILD"], map_values(frame["SEX"], sex_code), strict=True):
                    self.child_attrs[child].setdefault("_sex", sex)

    def _attr_tables(self, by_table: dict[str, Any]) -> None:
        for table in ("reviews", "missing", "ad1", "placed_adoption", "prev_perm", "oc2", "sw_episodes", "dolo"):
            for f, frame in by_table.get(table, []):
                if table in ("reviews", "missing"):
                    frame = dated_rows(f, table, frame, self._dates)
                for rec in _records(frame):
                    attrs = self.child_attrs.setdefault(rec["CHILD"], {})
                    if table == "missing":
                        key = "missing_episodes" if rec.get("MISSING", "").upper() == "M" else "away_episodes"
                        attrs[key] = attrs.get(key, 0) + 1
                    elif table == "prev_perm":
                        attrs["prev_perm"] = rec.get("PREV_PERM") or None
                    else:
                        attrs[f"{table}_rows"] = attrs.get(f"{table}_rows", 0) + 1
                    self.child_home.setdefault(rec["CHILD"], f.index)
                    if "DOB" in rec and rec["CHILD"] not in self.dob:
                        parsed = parse_dates(pd.Series([rec["DOB"]])).iloc[0]
                        if pd.notna(parsed):
                            self.dob[rec["CHILD"]] = parsed

    def _care_leavers(self, parts: list[Any], episodes: pd.DataFrame) -> None:
        last_end = {}
        if not episodes.empty:
            closed = episodes.loc[episodes["dec"].notna()]
            last_end = closed.groupby("child")["dec"].max().to_dict()
        best: dict[str, tuple[Any, ...]] = {}
        for f, frame in parts:
            for rec in _records(frame):
                child = rec["CHILD"]
                old = best.get(child)
                if old is not None:
                    loser, winner = (old, (f, rec)) if rec["_year"] >= old[1]["_year"] else ((f, rec), old)
                    loser[0].repairs.append({"source_row": loser[1]["_row"], "repair": "replaced_by_later_return",
                                             "detail": f"care leaver record repeated in {winner[0].name} "
                                                       f"row {winner[1]['_row']}"})
                    best[child] = winner
                else:
                    best[child] = (f, rec)
        for child, (f, rec) in best.items():
            start = last_end.get(child)
            birth = self.dob.get(child)
            if "DOB" in rec and birth is None:
                parsed = parse_dates(pd.Series([rec["DOB"]])).iloc[0]
                birth = parsed if pd.notna(parsed) else None
            if start is None and birth is not None:
                start = birth + pd.DateOffset(years=18)
                year_end = pd.Timestamp(int(rec["_year"]), 3, 31) if rec["_year"] > 0 else None
                if year_end is not None and start > year_end:  # not yet a care leaver in this return's year
                    f.bad(rec["_row"], "DOB", rec.get("DOB", "") or str(birth.date()),
                          "care leaver with no care episode whose 18th birthday is after the return's year end",
                          f"check the DOB (18 after {year_end.date()}): OC3 lists young people who have left care")
                    continue
            if start is None:
                f.bad(rec["_row"], "DOB", rec.get("DOB", ""), "care leaver with no date of birth and no care episode",
                      "give the child's DOB in the OC3 or Header table")
                continue
            attrs = {"in_touch": rec.get("IN_TOUCH") or None, "activity": rec.get("ACTIV") or None,
                     "accommodation": rec.get("ACCOM") or None,
                     "return_year": int(rec["_year"]) if rec["_year"] > 0 else None}
            f.episodes.append(_stay(child, "care_leaver", start, None, None, attrs, rec["_row"]))
            self.child_home.setdefault(child, f.index)

    # -- children -----------------------------------------------------------------------------
    def _children(self, headers: dict[str, Any]) -> None:
        for child in sorted(set(headers) | set(self.child_home)):
            head = headers.get(child)
            extra = self.child_attrs.get(child, {})
            attrs = {k: v for k, v in extra.items() if not k.startswith("_") and k != "uasc"}
            if head is not None:
                home = self.files[head["file"]]
                birth, sex, eth, upn = head["birth_date"], head["sex"], head["ethnicity"], head["upn"]
                uasc = head["uasc"] or bool(extra.get("uasc"))
            else:
                home = self.files[self.child_home[child]]
                birth = self.dob[child].date() if child in self.dob else None
                sex, eth, upn, uasc = extra.get("_sex"), None, None, bool(extra.get("uasc"))
            home.children.append({"source_child_id": child, "la": self.la, "sex": sex, "ethnicity": eth,
                                  "birth_date": birth, "disability": None, "uasc": uasc,
                                  "attrs": json.dumps(attrs, sort_keys=True)})
            home.identifiers.append({"source_child_id": child, "upn": upn, "surname": None, "forenames": None,
                                     "birth_date": birth})

    def _result(self, f: _File) -> ReadResult:
        result = ReadResult(source=f.name, format=FORMAT, rows_read=f.rows_read)
        if f.quarantine:
            result.quarantine = pd.DataFrame(f.quarantine, columns=QUARANTINE_COLUMNS)
        result.rows_loaded = f.rows_read - result.rows_quarantined
        if f.repairs:
            result.repairs = pd.DataFrame(f.repairs, columns=["source_row", "repair", "detail"])
        if f.children:
            result.children = pd.DataFrame(f.children, columns=CHILD_COLUMNS)
            result.identifiers = pd.DataFrame(f.identifiers, columns=IDENTIFIER_COLUMNS)
        if f.episodes:
            frame = pd.DataFrame(f.episodes, columns=EPISODE_COLUMNS)
            frame["start"] = pd.to_datetime(frame["start"])
            frame["end"] = pd.to_datetime(frame["end"])
            frame["source_row"] = frame["source_row"].astype("int64")
            result.episodes = frame
        if f.reviews:
            result.reviews = pd.concat(f.reviews, ignore_index=True)
        if f.missing:
            result.missing = pd.concat(f.missing, ignore_index=True)
        if f.rows_read == 0:
            f.warnings.append(f"{f.name}: the table has a header but no data rows")
        result.warnings = f.warnings
        result.check_accounted()
        return result


def _stay(child: Any, stage: str, start: Any, end: Any, outcome: Any, attrs: dict[str, Any],
          row: int) -> dict[str, Any]:
    return {"source_child_id": child, "stage": stage, "start": start, "end": end, "outcome": outcome,
            "need_key": None, "team": None, "worker": None,
            "attrs": json.dumps({k: v for k, v in attrs.items() if v not in (None, "")}, sort_keys=True),
            "source_row": int(row)}


def _records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Rows as dicts with Python values, as ``frame.to_dict("records")`` gives, without boxing each value
    through Python (a Series iterates its values as Python scalars and Timestamps already)."""
    columns = list(frame.columns)
    for values in zip(*(frame[c] for c in columns), strict=True):
        yield dict(zip(columns, values, strict=True))
