"""Ofsted Annex A (the child-level lists inspectors ask for): xlsx workbooks or one CSV per list.

Lists are recognised by sheet or file name ("List 1", "List_1", "L1 Contacts", "Contacts (List 1)")
or, failing that, by their headings. Headings are matched by normalised patterns (case, spacing,
punctuation and the variants seen in LA returns: the header patterns of the Annex A schema in
SocialFinanceDigitalLabs/liia-tools-pipeline, ``schema_yml/Annex_A_schema.yml``, informed these).
Coded values lose their list prefixes (``a) WBRI`` -> ``WBRI``); formula cells are read by their
cached values (openpyxl ``data_only``); columns we do not use are kept in ``attrs``.

Stays per list (see docs/data-model.md): 1 contact; 2 early_help; 3 referral; 4 assessment;
5 strategy_discussion + s47 (+ icpc when a conference date is given); 6 child data only (its dates
are the episode of need's, referral to closure, not a CIN plan's); 7 cp_plan;
8 looked_after, and a child who went missing in the 12 months (or whose return interview is
recorded) one undated ``missing`` row: the counts of missing and absent episodes in attrs, whether a
return interview was offered and accepted after the last one; 9 care_leaver (from the 18th birthday);
10 adoption dates go to the child's attrs;
11 (adopters, not children) is counted and quarantined with a note.

Source rows are numbered through the workbook (sheet after sheet); quarantine hints give the
sheet and its Excel row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cscflow.errors import SourceError
from cscflow.sources.base import MISSING_COLUMNS, ReadResult, source_name
from cscflow.sources.detect import LIST_NAME
from cscflow.sources.values import (
    bad_dates,
    clean_id,
    ethnicity_code,
    implausible_dates,
    is_blank,
    leading_code,
    map_values,
    match_headers,
    normalise_header,
    parse_dates,
    sex_code,
    sniff_encoding,
    strip_prefix,
    yes_no,
)

FORMAT = "annex-a"
_ID = ["child unique id", "/\\bchild\\b.*\\b(id|identifier)\\b|\\b(id|identifier)\\b.*\\bchild\\b/", "/^(la )?child id/"]
_COMMON: dict[str, list[str]] = {
    "child_id": _ID,
    "sex": ["gender", "sex", "/^gender/", "/^sex\\b/"],
    "ethnicity": ["ethnicity", "/ethnic/"],
    "birth_date": ["date of birth", "/date.*birth/"],
    "disability": ["does the child have a disability", "disability", "/disab/"],
    "uasc": ["/unaccompanied asylum seeking/", "uasc"],
    "team": ["allocated team", "/allocated team/"],
    "worker": ["allocated worker", "/allocated worker/"],
}
#: list number -> (title, {field: patterns}, required fields)
LISTS: dict[int, tuple[str, dict[str, list[str]], tuple[str, ...]]] = {
    1: ("Contacts", {"start": ["date of contact", "/date.*contact/"], "source": ["contact source", "/contact.*source/"]},
        ("child_id", "start")),
    2: ("Early help", {"start": ["assessment start date", "/(assessment|episode).*start/"],
                       "end": ["assessment completion date", "/(assessment|episode).*(complet|end)/"],
                       "organisation": ["organisation completing assessment", "/organisation/"]},
        ("child_id", "start")),
    3: ("Referrals", {"start": ["date of referral", "/date of.*referral/", "/referral date/"],
                      "referral_source": ["referral source", "/referral.*source/"],
                      "nfa": ["referral nfa", "/nfa/"],
                      "referrals_12m": ["/number of referrals/"]},
        ("child_id", "start")),
    4: ("Assessments", {"start": ["continuous assessment start date", "/assessment start/"],
                        "end": ["continuous assessment date of authorisation", "/authoris/", "/assessment.*complet/"],
                        "seen": ["/child seen/"],
                        "needs_support": ["/was the child assessed.*social care support/", "/assessed as requiring/"]},
        ("child_id", "start")),
    5: ("Section 47 enquiries", {"start": ["/strategy discussion/", "/section 47.*start/", "/s47.*start/"],
                                 "icpc_unnecessary": ["/deemed unnecessary/"],
                                 "icpc_date": ["date of initial child protection conference", "/date of (initial|icpc)/"],
                                 "icpc_cp_plan": ["/result in a child protection plan/", "/icpc.*result/"]},
        ("child_id", "start")),
    6: ("Children in need", {"start": ["cin start date", "/cin start/", "/child in need start/"],
                             "end": ["cin closure date", "/cin (closure|end)/"],
                             "primary_need": ["primary need code", "/primary need/"],
                             "closure_reason": ["reason for closure", "/reason for closure/"],
                             "case_status": ["case status"]},
        ("child_id", "start")),
    7: ("Child protection", {"start": ["child protection plan start date", "/protection plan start/", "/cp plan start/"],
                             "end": ["child protection plan end date", "/protection plan end/", "/cp plan end/"],
                             "initial_category": ["initial category of abuse", "/initial category/"],
                             "category_of_abuse": ["latest category of abuse", "/latest category/"]},
        ("child_id", "start")),
    8: ("Children in care", {"start": ["date started to be looked after", "/started to be looked after/"],
                             "end": ["date ceased to be looked after", "/ceased to be looked after/"],
                             "rec": ["reason ceased to be looked after", "/reason ceased/"],
                             "legal_status": ["child s legal status", "childs legal status", "/legal status$/"],
                             "placement": ["placement type"], "placement_provider": ["placement provider"],
                             "category_of_need": ["/category of need/"],
                             "missing_12m": ["/episodes.*missing/"], "away_12m": ["/episodes.*absent/"],
                             "rhi_offered": ["/offered a return interview/"],
                             "rhi_accepted": ["/accept a return interview/"]},
        ("child_id", "start")),
    9: ("Care leavers", {"in_touch": ["la in touch", "/in touch/"], "activity": ["activity status", "/activity/"],
                         "accommodation": ["type of accommodation", "/type of accommodation/"],
                         "eligibility": ["eligibility category", "/eligibility/"]},
        ("child_id",)),
    10: ("Adoption", {}, ("child_id",)),  # every adoption date goes to the child's attrs
    11: ("Adopters", {"adopter_id": ["individual adopter identifier", "/adopter identifier/"]}, ("adopter_id",)),
}
#: Distinctive headings per list (normalised substrings), for sheets whose names say nothing.
_CONTENT = {
    1: "date of contact", 2: "organisation completing", 3: "date of referral", 4: "continuous assessment",
    5: "strategy discussion", 6: "cin start date", 7: "child protection plan start", 8: "started to be looked after",
    9: "eligibility category", 10: "placed for adoption", 11: "adopter identifier",
}
_KNOWN_WORDS = {"contact": 1, "early help": 2, "referral": 3, "assessment": 4, "section 47": 5, "s47": 5,
                "child in need": 6, "cin": 6, "protection": 7, "in care": 8, "looked after": 8, "care leaver": 9,
                "adopter": 11, "adoption": 10}


@dataclass
class _Sheet:
    name: str
    rows: list[tuple[Any, ...]]


def list_number(name: str, headers: list[object] | None = None) -> int | None:
    """The Annex A list a sheet or file holds, from its name, else its headings.

    >>> list_number("List 1"), list_number("List_10"), list_number("L3 Referrals"), list_number("Contacts (List 1)")
    (1, 10, 3, 1)
    >>> list_number("Sheet1", ["Child ID", "Date of Referral"])
    3
    """
    m = LIST_NAME.search(name)
    if m and 1 <= int(m.group(1)) <= 11:
        return int(m.group(1))
    if headers:
        norm = " | ".join(normalise_header(h) for h in headers)
        for n, key in _CONTENT.items():
            if key in norm:
                return n
    low = normalise_header(name)
    for word, n in _KNOWN_WORDS.items():
        if re.search(rf"\b{word}\b", low):
            return n
    return None


def _xlsx_sheets(path: Path) -> list[_Sheet]:
    from cscflow.sources.xlsx import Workbook, read_sheets

    try:
        return [_Sheet(name, rows) for name, rows in read_sheets(path)]
    except Exception:  # noqa: BLE001 - calamine's errors; the lxml reader below names what is wrong
        pass
    try:
        wb = Workbook(path)
    except Exception as exc:  # BadZipFile, zlib.error, XML errors, KeyError... from a damaged file
        raise SourceError(
            f"{path.name} is not a readable xlsx workbook ({type(exc).__name__})",
            hint="the file may be truncated or not really xlsx: open it in Excel and save it again as .xlsx",
        ) from None
    sheets = []
    name = ""
    try:
        for name, member in wb.sheets:
            sheets.append(_Sheet(name, list(wb.rows(member))))
    except Exception as exc:  # damaged sheet XML inside a readable zip
        raise SourceError(f"{path.name}: sheet {name!r} is damaged ({type(exc).__name__})",
                          hint="open the workbook in Excel and save it again") from None
    finally:
        wb.close()
    return sheets


def _csv_sheet(path: Path) -> list[_Sheet]:
    enc = sniff_encoding(path)
    try:
        frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding=enc,
                            encoding_errors="replace", sep=None, engine="python", on_bad_lines="warn")
    except pd.errors.EmptyDataError:
        raise SourceError(f"{path.name} has no rows", hint="export the list again with its heading row") from None
    except (pd.errors.ParserError, UnicodeError, csv_error()) as exc:
        raise SourceError(f"{path.name} cannot be read as CSV: {str(exc).splitlines()[0][:120]}",
                          hint="check the separators and quotes, or save it again from Excel as CSV") from None
    return [_Sheet(path.stem, [tuple(r) for r in frame.itertuples(index=False, name=None)])]


def csv_error() -> type[Exception]:
    import csv

    return csv.Error


def _header_row(rows: list[tuple[Any, ...]]) -> int | None:
    """Index of the heading row: the first of the top 15 rows with a child-id-like heading."""
    pats = [re.compile(p.strip("/")) for p in _ID if p.startswith("/")] + [re.compile(r"adopter identifier")]
    for i, row in enumerate(rows[:15]):
        norm = [normalise_header(v) for v in row if not is_blank(v)]
        if any(p.search(h) for h in norm for p in pats) or "child unique id" in norm:
            return i
    return None


def read(paths: list[Path], **_: Any) -> list[ReadResult]:
    """Read Annex A files: one :class:`ReadResult` per workbook or per list CSV."""
    return [read_one(Path(p)) for p in paths]


def read_one(path: Path, today: dt.date | None = None) -> ReadResult:
    """Read one Annex A workbook or list CSV."""
    if not path.exists():
        raise SourceError(f"{path}: no such file", hint="check the path")
    if path.stat().st_size == 0:
        raise SourceError(f"{path.name} is empty (0 bytes)", hint="export the Annex A again")
    ext = path.suffix.lower()
    if ext == ".xls":
        raise SourceError(f"{path.name} is an old Excel .xls file", hint="open it in Excel and save it as .xlsx")
    sheets = _xlsx_sheets(path) if ext in (".xlsx", ".xlsm") else _csv_sheet(path)
    acc = _Accumulator(source_name(path), today or dt.date.today())
    recognised = 0
    for sh in sheets:
        h = _header_row(sh.rows)
        if h is None:
            continue
        headers = list(sh.rows[h])
        n = list_number(sh.name, headers) if len(sheets) > 1 or ext != ".csv" else list_number(path.stem, headers)
        if n is None:
            acc.warnings.append(f"sheet {sh.name!r} is not an Annex A list (skipped)")
            continue
        recognised += 1
        kept = [(i + h + 2, r) for i, r in enumerate(sh.rows[h + 1:]) if any(not is_blank(v) for v in r)]
        data = [r for _, r in kept]
        excel_rows = [i for i, _ in kept]
        acc.add_list(n, sh.name, headers, data, excel_rows)
    if not recognised:
        names = ", ".join(repr(s.name) for s in sheets[:12])
        raise SourceError(f"{path.name}: no Annex A list found (sheets: {names})",
                          hint="each list needs a heading row with 'Child Unique ID'; name sheets 'List 1' ... 'List 11'")
    return acc.result()


class _Accumulator:
    def __init__(self, source: str, today: dt.date) -> None:
        self.source, self.today = source, today
        self.next_row = 1
        self.children: list[pd.DataFrame] = []
        self.episodes: list[dict[str, Any]] = []
        self.missing: list[dict[str, Any]] = []
        self.quarantine: list[dict[str, Any]] = []
        self.repairs: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.rows_read = 0
        self.loaded: set[int] = set()

    def bad(self, row: int, sheet: str, excel_row: int, column: str, value: object, problem: str, hint: str) -> None:
        self.quarantine.append({"source_row": row, "column": f"{sheet}: {column}",
                                "value": None if is_blank(value) else str(value)[:200], "problem": problem,
                                "hint": f"{hint} (sheet {sheet!r}, row {excel_row})"})

    def add_list(self, n: int, sheet: str, headers: list[Any], data: list[tuple[Any, ...]], excel_rows: list[int]) -> None:
        title, spec, required = LISTS[n]
        fields = {**({} if n == 11 else _COMMON), **spec}
        where = f"{self.source} sheet {sheet!r} (list {n}, {title})"
        found = match_headers([("" if h is None else str(h)) for h in headers], fields, required=required,
                              where=where)
        width = len(headers)
        frame = pd.DataFrame([tuple(r[:width]) + (None,) * (width - len(r)) for r in data],
                             columns=[f"c{i}" for i in range(width)], dtype=object)
        rows = pd.Series(range(self.next_row, self.next_row + len(frame)), index=frame.index)
        self.next_row += len(frame)
        self.rows_read += len(frame)
        if frame.empty:
            return
        xl = pd.Series(excel_rows, index=frame.index)
        col = {f: frame[f"c{i}"] for f, i in found.items()}
        used = set(found.values())
        extra = {normalise_header(headers[i]).replace(" ", "_") or f"column_{i + 1}": frame[f"c{i}"]
                 for i in range(width) if i not in used}
        if n == 11:
            for r, x in zip(rows, xl, strict=True):
                self.bad(r, sheet, x, "Individual adopter identifier", None, "adopter record not loaded",
                         "cscflow follows children; the adopters list is counted but not loaded")
            return
        ok = pd.Series(True, index=frame.index)
        ids = map_values(col["child_id"], clean_id)
        for i in frame.index[ids.isna()]:
            self.bad(rows[i], sheet, xl[i], headers[found["child_id"]], None, "missing child id",
                     "every row needs the child's unique id")
        ok &= ids.notna()
        dates = {}
        for f in ("start", "end", "icpc_date"):
            if f not in col:
                continue
            parsed = parse_dates(col[f])
            bad = bad_dates(col[f], parsed)
            why = implausible_dates(parsed, today=self.today)
            for i in frame.index[bad]:
                self.bad(rows[i], sheet, xl[i], headers[found[f]], col[f][i], "not a date",
                         "write dates as dd/mm/yyyy or as Excel dates")
            for i in frame.index[why.notna()]:
                self.bad(rows[i], sheet, xl[i], headers[found[f]], col[f][i], why[i], "check the date")
            ok &= ~bad & why.isna()
            dates[f] = parsed
        if "start" in dates:
            missing = dates["start"].isna() & ~bad_dates(col["start"], dates["start"])
            for i in frame.index[missing & ids.notna()]:
                self.bad(rows[i], sheet, xl[i], headers[found["start"]], None, "missing start date",
                         "the stay cannot be placed without its date")
            ok &= ~missing
        dup = frame.duplicated(keep="first")
        for i in frame.index[dup & ok]:
            self.bad(rows[i], sheet, xl[i], "", None, "duplicate row", "the row repeats an earlier row; nothing to do")
        ok &= ~dup
        birth = parse_dates(col["birth_date"]) if "birth_date" in col else pd.Series(pd.NaT, index=frame.index)
        if "birth_date" in col:
            for i in frame.index[bad_dates(col["birth_date"], birth) & ok]:
                self.repairs.append({"source_row": rows[i], "repair": "unreadable date of birth left blank",
                                     "detail": f"sheet {sheet!r} row {xl[i]}"})
        good = frame.index[ok]
        if not len(good):
            return
        self.loaded.update(rows[good].tolist())
        # each distinct value of a column worked out once (most columns are coded: a few values each)
        xl_lists = {k: map_values(v, _kept_attr).tolist() for k, v in extra.items()}
        attrs = [{k: v[i] for k, v in xl_lists.items() if v[i] is not None} for i in good]
        self._children(n, col, ids, birth, good, attrs)
        self._stays(n, col, ids, dates, birth, good, rows, attrs)

    def _children(self, n: int, col: dict[str, Any], ids: Any, birth: Any, good: Any, attrs: Any) -> None:
        def get(f: str, func: Callable[[Any], Any]) -> list[Any]:
            return map_values(col[f][good], func).tolist() if f in col else [None] * len(good)

        ch = pd.DataFrame({
            "source_child_id": ids[good].tolist(),
            "la": None,
            "sex": get("sex", sex_code),
            "ethnicity": get("ethnicity", ethnicity_code),
            "birth_date": birth[good].to_numpy(),
            "disability": get("disability", yes_no),
            "uasc": get("uasc", yes_no),
            "attrs": [({"annex_a_adoption": a} if n == 10 and a else {"annex_a_cin": a} if n == 6 and a else None)
                      for a in attrs],
        })
        self.children.append(ch)

    def _stays(self, n: int, col: dict[str, Any], ids: Any, dates: dict[Any, Any], birth: Any, good: Any, rows: Any,
               attrs: Any) -> None:
        # Plain lists: indexing a pandas Series row by row is slow. Dates as datetime (numpy's microsecond
        # values give them without pandas' Timestamp boxing; NaT -> None); coded cells worked out once per
        # distinct value of their column.
        dl = {f: d.to_numpy(dtype="datetime64[us]").tolist() for f, d in dates.items()}
        idl, rl = ids.tolist(), rows.tolist()
        bl = birth.tolist() if n == 9 else []  # care leavers' 18th birthdays
        memo: dict[tuple[str, Callable[[Any], Any]], list[Any]] = {}

        def per(f: str, func: Callable[[Any], Any]) -> list[Any]:
            got = memo.get((f, func))
            if got is None:
                got = memo[(f, func)] = map_values(col[f], func).tolist()
            return got

        def val(f: str, i: int) -> Any:
            return per(f, _kept_text)[i] if f in col else None

        def code(f: str, i: int) -> Any:
            return per(f, leading_code)[i] if f in col else None

        def yn(f: str, i: int) -> Any:
            return per(f, yes_no)[i] if f in col else None

        def ts(f: str, i: int) -> Any:
            return dl[f][i] if f in dl else None

        from cscflow.model.codes import rec_outcomes

        rec_outcome = rec_outcomes()
        for k, i in enumerate(good):
            base = {"source_child_id": idl[i], "team": val("team", i), "worker": val("worker", i),
                    "source_row": int(rl[i]), "need_key": None}
            a = dict(attrs[k])
            start, end = ts("start", i), ts("end", i)
            if n == 1:
                a["source"] = code("source", i)
                self._add(base, "contact", start, start, None, a)
            elif n == 2:
                a["organisation"] = val("organisation", i)
                self._add(base | {"team": val("organisation", i)}, "early_help", start, end,
                          "closed" if end else None, a)
            elif n == 3:
                nfa = yn("nfa", i)
                a["referral_source"] = code("referral_source", i)
                self._add(base, "referral", start, start, "nfa" if nfa else None, a)
            elif n == 4:
                need = yn("needs_support", i)
                outcome = None if end is None else ("nfa" if need is False else None)
                self._add(base, "assessment", start, end, outcome, a)
            elif n == 5:
                icpc = ts("icpc_date", i)
                unnecessary = yn("icpc_unnecessary", i)
                self._add(base, "strategy_discussion", start, start, "s47", {})
                # As the CIN census reader does: an enquiry that needed no conference, with no ICPC, ends the
                # day it starts (its true end is not recorded: end_unknown), never open for ever.
                if icpc is None and unnecessary:
                    a["end_unknown"] = True
                self._add(base, "s47", start, icpc if icpc else (start if unnecessary else None),
                          "icpc" if icpc else ("nfa" if unnecessary else None), a)
                if icpc is not None:
                    plan = yn("icpc_cp_plan", i)
                    self._add(base, "icpc", icpc, icpc, "cp_plan" if plan else ("nfa" if plan is False else None), {})
            elif n == 6:
                for f in ("primary_need", "closure_reason", "case_status"):
                    a[f] = code(f, i)
                # List 6 is every child in need in the year: its dates are the episode of need's
                # (referral to closure), not a CIN plan's, so the row is child data only (no stay).
                continue
            elif n == 7:
                for f in ("initial_category", "category_of_abuse"):
                    a[f] = val(f, i)
                self._add(base, "cp_plan", start, end, "closed" if end else None, a)
            elif n == 8:
                for f in ("legal_status", "placement", "placement_provider", "rec", "category_of_need"):
                    a[f] = code(f, i)
                rec = a.get("rec")
                outcome = None if end is None else rec_outcome.get(str(rec or ""), "closed")
                self._add(base, "looked_after", start, end, outcome, a)
                self._missing(base, val("missing_12m", i), val("away_12m", i), val("rhi_offered", i),
                              val("rhi_accepted", i))
            elif n == 9:
                for f in ("in_touch", "activity", "accommodation", "eligibility"):
                    a[f] = code(f, i)
                b = bl[i]
                if pd.isna(b):
                    a["start_unknown"] = True
                    self.repairs.append({"source_row": int(rl[i]), "repair": "care leaver without date of birth",
                                         "detail": "no 18th birthday to start the stay: kept as child data only"})
                    continue
                self._add(base, "care_leaver", b + pd.DateOffset(years=18), None, None, a)

    def _missing(self, base: dict[str, Any], missing: Any, away: Any, offered: Any, accepted: Any) -> None:
        """List 8's missing episodes of one child: an undated ``missing`` row when the child went missing
        (or the return interview is recorded): Annex A gives counts and the last episode's interview only."""
        counts = {"missing_12m": _count(missing), "away_12m": _count(away)}
        offer, accept = yes_no(offered), yes_no(accepted)
        if not counts["missing_12m"] and offer is None and accept is None:
            return
        self.missing.append({"source_child_id": base["source_child_id"], "kind": "missing", "start": None,
                             "end": None, "interview_offered": offer, "interview_accepted": accept,
                             "attrs": {**{k: v for k, v in counts.items() if v is not None},
                                       "annex_a": "list 8: the last missing episode of the 12 months"},
                             "source_row": base["source_row"]})

    def _add(self, base: dict[str, Any], stage: str, start: Any, end: Any, outcome: Any,
             attrs: dict[str, Any]) -> None:
        self.episodes.append(base | {"stage": stage, "start": start, "end": end, "outcome": outcome,
                                     "attrs": {k: v for k, v in attrs.items() if v is not None} or None})

    def result(self) -> ReadResult:
        res = ReadResult(source=self.source, format=FORMAT)
        res.rows_read = self.rows_read
        if self.children:
            ch = pd.concat(self.children, ignore_index=True)
            res.children = ch.loc[ch.drop(columns=["attrs"]).astype(str).drop_duplicates().index]
        if self.episodes:
            res.episodes = pd.DataFrame(self.episodes)
        if self.missing:
            res.missing = pd.DataFrame(self.missing, columns=MISSING_COLUMNS)
        if self.quarantine:
            res.quarantine = pd.DataFrame(self.quarantine)
        if self.repairs:
            res.repairs = pd.DataFrame(self.repairs)
        res.warnings = self.warnings
        quarantined = set(res.quarantine["source_row"]) if not res.quarantine.empty else set()
        res.rows_loaded = len(self.loaded - quarantined)
        return res


def _count(value: object) -> int | None:
    """A count cell as a whole number (None when blank or not a number)."""
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return int(number) if number == number and number >= 0 and number == int(number) else None


def _kept_text(value: object) -> object:
    """A text cell without its list prefix (None when blank)."""
    return None if is_blank(value) else strip_prefix(value)


def _kept_attr(value: object) -> object:
    """An extra column's cell as kept in ``attrs`` (None when blank: left out)."""
    return None if is_blank(value) else _attr(value)


def _attr(value: object) -> object:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    if isinstance(value, str):
        return strip_prefix(value)
    return value
