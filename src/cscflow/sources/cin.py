"""Read CIN census XML returns (2017-2026 layouts) into the canonical frames.

One ``<CINdetails>`` is one episode of need (``need_key`` = LA child id and
referral date, stable across census years) and one *record* of the file: it is
either loaded or quarantined whole. It yields the stays of docs/data-model.md:
``referral``, ``assessment``, ``strategy_discussion`` (the discussion that opened
an S47 enquiry, dated by ``S47ActualStartDate``), ``s47``, ``icpc``,
``cin_plan``, ``cp_plan`` and, from the 2026 layout, ``pre_proceedings``.
The file is parsed as a stream (see :mod:`cscflow.sources.cin_stream`).

>>> from pathlib import Path
>>> import cscflow.sources.cin as cin
>>> callable(cin.read)
True
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cscflow.errors import SourceError
from cscflow.sources.base import (
    CHILD_COLUMNS,
    EPISODE_COLUMNS,
    IDENTIFIER_COLUMNS,
    QUARANTINE_COLUMNS,
    ReadResult,
    source_name,
)
from cscflow.sources.cin_stream import (
    XmlTruncated,
    children_named,
    iter_records,
    local,
    parse_date,
    sniff_root,
    text_of,
)

FORMAT = "cin"

#: GenderCurrent (to 2024) and Sex (from 2025) codes -> M / F / U.
SEX_CODES = {"1": "M", "2": "F", "0": "U", "9": "U", "M": "M", "F": "F", "U": "U"}

#: ReasonForClosure -> exit of the episode of need (CIN census guide, closure reasons RC1-RC9).
CLOSURE_EXITS = {
    "RC1": "permanence",  # adopted
    "RC3": "permanence",  # child arrangements order
    "RC4": "permanence",  # special guardianship order
    "RC8": "nfa",  # case closed after assessment, no further action
    "RC9": "step_down_early_help",  # case closed after assessment, referred to early help
}

_TRUE = {"1", "true", "TRUE", "True", "Y", "y", "yes"}
_DATE_HINT = "write dates as YYYY-MM-DD (xs:date) and export the return again"
_EARLIEST = dt.date(1900, 1, 1)


@dataclass
class _Record:
    """One CINdetails being read: its stays or its problems."""

    row: int
    child_index: int
    stays: list[dict] = field(default_factory=list)
    problems: list[tuple[str, str, str, str]] = field(default_factory=list)


class _Dates:
    """Parses the dates of one record, collecting problems instead of raising."""

    def __init__(self, record: _Record, today: dt.date) -> None:
        self.record = record
        self.today = today

    def get(self, elem, path: str, *, future_ok: bool = False) -> dt.date | None:
        name = path.rsplit("/", 1)[-1]
        raw = text_of(elem, name) if elem is not None else None
        try:
            value = parse_date(raw)
        except ValueError:
            self.record.problems.append((path, raw or "", "not a date", _DATE_HINT))
            return None
        if value is None:
            return None
        if value < _EARLIEST:
            self.record.problems.append((path, raw or "", "impossible date (before 1900)", _DATE_HINT))
            return None
        if value > self.today and not future_ok:
            self.record.problems.append(
                (path, raw or "", "date in the future", "correct the date in the case system and re-export")
            )
            return None
        return value

    def order(self, path: str, start: dt.date | None, end: dt.date | None) -> None:
        if start is not None and end is not None and end < start:
            self.record.problems.append(
                (path, end.isoformat(), f"end before start ({start.isoformat()})",
                 "correct the start or end date in the case system and re-export")
            )


def read(paths: list[Path], *, validate: bool = False, la: str | None = None, **options) -> list[ReadResult]:
    """Read CIN census XML files, one :class:`ReadResult` per file.

    ``validate=True`` also checks each file against the bundled CIN XSD of its
    collection year; the errors go to ``ReadResult.warnings`` (prefixed ``xsd:``).
    ``la`` overrides the LA code of the header (``<LEA>``).

    >>> from cscflow.sources import cin
    >>> cin.read([])
    []
    """
    read_one = [_read(Path(p), validate=validate, la=la, today=options.get("today")) for p in paths]
    if len(read_one) > 1:
        _merge_census_years(read_one)
    return [result for result, _year in read_one]


def _merge_census_years(read_one: list[tuple[ReadResult, int | None]]) -> None:
    """Keep each stay and child once across census years.

    A stay open at one census is repeated (often closed) in the next; stays are the same
    when child, stage and start agree. The kept version is the one that saw the stay's
    next step (its outcome is a stage: a later census may no longer list an assessment
    finished the year before; the earliest such step wins), then the latest census's. Other copies are dropped from
    their frames (their records stay loaded: the kept row holds their content).
    """
    from cscflow.model.stages import STAGES

    frames = []
    for i, (result, year) in enumerate(read_one):
        eps = result.episodes
        if not eps.empty:
            frames.append(pd.DataFrame({
                "file": i, "row": range(len(eps)), "year": year or 0,
                "key_child": eps["source_child_id"].to_numpy(), "key_stage": eps["stage"].to_numpy(),
                "key_start": eps["start"].to_numpy(), "onward": eps["outcome"].isin(STAGES).to_numpy(),
                "closed": eps["end"].notna().to_numpy(),
                # among versions that saw a next step, the earliest next step is the true one
                "step": eps["end"].where(eps["outcome"].isin(STAGES)).fillna(pd.Timestamp.max).to_numpy(),
            }))
    if frames:
        allx = pd.concat(frames, ignore_index=True)
        allx = allx.sort_values(["onward", "step", "year", "closed", "file"],
                                ascending=[False, True, False, False, False], kind="mergesort")
        keep = ~allx.duplicated(["key_child", "key_stage", "key_start"], keep="first")
        for i, (result, _year) in enumerate(read_one):
            mine = allx.loc[(allx["file"] == i)]
            if mine.empty or keep[mine.index].all():
                continue
            rows = sorted(mine.loc[keep[mine.index], "row"])
            dropped = len(result.episodes) - len(rows)
            result.episodes = result.episodes.iloc[rows].reset_index(drop=True)
            result.warnings.append(f"{dropped} stays repeated in another census were taken from that census")
    order = sorted(range(len(read_one)), key=lambda i: (read_one[i][1] or 0, i), reverse=True)
    seen_children: set[str] = set()
    for i in order:
        result = read_one[i][0]
        for frame_name in ("children", "identifiers"):
            frame = getattr(result, frame_name)
            if not frame.empty:
                setattr(result, frame_name, frame.loc[~frame["source_child_id"].isin(seen_children)].reset_index(drop=True))
        seen_children.update(result.children["source_child_id"])


def read_file(
    path: Path, *, validate: bool = False, la: str | None = None, today: dt.date | None = None
) -> ReadResult:
    """Read one CIN census XML file (streamed); see :func:`read`."""
    return _read(path, validate=validate, la=la, today=today)[0]


def _read(path: Path, *, validate: bool, la: str | None, today: dt.date | None) -> tuple[ReadResult, int | None]:
    path = Path(path)
    name = source_name(path)
    if not path.is_file():
        raise SourceError(f"{name}: file not found", hint="check the path")
    root = sniff_root(path)
    if root == "EXPSSDA903":
        raise SourceError(
            f"{name}: this is an SSDA903 (children looked after) XML return, not a CIN census",
            hint="load it with --format 903",
        )
    if root != "Message":
        raise SourceError(
            f"{name}: the root element is <{root}>; a CIN census file has <Message>",
            hint="check the file is a CIN census XML export, or give the right --format",
        )
    reader = _CinReader(name, la=la, today=today or dt.date.today())
    try:
        for elem in iter_records(path, "Child", also=("Header",)):
            if local(elem.tag) == "Header":
                reader.header(elem)
            else:
                reader.child(elem)
    except XmlTruncated as err:
        if reader.rows_read == 0 and reader.children_seen == 0:
            raise SourceError(
                f"{name}: not well-formed XML (line {err.line}: {err.message})",
                hint="the file is damaged or truncated; export the return again",
            ) from None
        reader.truncated(err)
    result = reader.result()
    if validate:
        from cscflow.sources.cin_xsd import validate_cin

        result.warnings.extend(validate_cin(path, reader.year))
    result.check_accounted()
    return result, reader.year


class _CinReader:
    """Accumulates the frames of one file while its Child elements stream past."""

    def __init__(self, name: str, *, la: str | None, today: dt.date) -> None:
        self.name = name
        self.la = la
        self.la_from_header = la is None
        self.today = today
        self.year: int | None = None
        self.reference_date: dt.date | None = None
        self.rows_read = 0
        self.rows_loaded = 0
        self.children_seen = 0
        self.children: dict[str, dict] = {}
        self.identifiers: dict[str, dict] = {}
        self.episodes: list[dict] = []
        self.quarantine: list[dict] = []
        self.warnings: list[str] = []
        self.needs_seen: dict[tuple[str, dt.date], int] = {}

    # -- header -------------------------------------------------------------------------------
    def header(self, elem) -> None:
        details = next(iter(children_named(elem, "CollectionDetails")), None)
        if details is not None:
            year = text_of(details, "Year")
            if year and year.isdigit():
                self.year = int(year)
            try:
                self.reference_date = parse_date(text_of(details, "ReferenceDate"))
            except ValueError:
                self.warnings.append(f"{self.name}: header ReferenceDate is not a date; ignored")
        source = next(iter(children_named(elem, "Source")), None)
        lea = text_of(source, "LEA") if source is not None else None
        if self.la_from_header and lea:
            self.la = lea

    # -- one Child ----------------------------------------------------------------------------
    def child(self, elem) -> None:
        self.children_seen += 1
        index = self.children_seen
        ids = next(iter(children_named(elem, "ChildIdentifiers")), None)
        chars = next(iter(children_named(elem, "ChildCharacteristics")), None)
        details = children_named(elem, "CINdetails")
        records = [_Record(self.rows_read + i + 1, index) for i in range(max(1, len(details)))]
        self.rows_read += len(records)

        child_id = text_of(ids, "LAchildID") if ids is not None else None
        # child-level facts, checked once and charged to every record of the child
        probe = _Record(0, index)
        dates = _Dates(probe, self.today)
        birth = dates.get(ids, "ChildIdentifiers/PersonBirthDate") if ids is not None else None
        expected = dates.get(ids, "ChildIdentifiers/ExpectedPersonBirthDate", future_ok=True) if ids is not None else None
        if not child_id:
            probe.problems.append(
                ("ChildIdentifiers/LAchildID", "", "child has no LAchildID",
                 "every <Child> needs <ChildIdentifiers><LAchildID>; fix the export")
            )
        for record, cd in zip(records, details or [None], strict=False):
            record.problems.extend(probe.problems)
            if cd is not None and not probe.problems:
                self._need(record, cd, child_id)

        loaded = [r for r in records if not r.problems]
        for record in records:
            for column, value, problem, hint in record.problems:
                self.quarantine.append({
                    "source_row": record.row, "column": column, "value": value,
                    "problem": f"{problem} (Child element {index})", "hint": hint,
                })
        if not loaded:
            return
        self.rows_loaded += len(loaded)
        for record in loaded:
            self.episodes.extend(record.stays)
        if child_id not in self.children:
            self.children[child_id] = self._child_row(child_id, ids, chars, birth, expected, loaded)
            self.identifiers[child_id] = {
                "source_child_id": child_id,
                "upn": text_of(ids, "UPN"),
                "surname": None,
                "forenames": None,
                "birth_date": birth,
            }
        elif any('"9A"' in (s["attrs"] or "") for r in loaded for s in r.stays):
            self.children[child_id]["uasc"] = True

    def _child_row(self, child_id, ids, chars, birth, expected, loaded) -> dict:
        sex_raw = text_of(ids, "Sex") or text_of(ids, "GenderCurrent")
        sex = SEX_CODES.get((sex_raw or "").strip().upper(), "U")
        disabilities: list[str] = []
        ethnicity = None
        if chars is not None:
            ethnicity = text_of(chars, "Ethnicity")
            for block in children_named(chars, "Disabilities"):
                disabilities += [(d.text or "").strip() for d in children_named(block, "Disability")]
        disabilities = [d for d in disabilities if d]
        attrs: dict = {}
        if disabilities:
            attrs["disabilities"] = disabilities
        if birth is None and expected is not None:
            attrs["unborn_at_census"] = True
            attrs["expected_birth_month"] = expected.replace(day=1).isoformat()
        unknown = text_of(ids, "UPNunknown")
        if unknown:
            attrs["upn_unknown"] = unknown
        if self.year:
            attrs["census_year"] = self.year
        uasc = any('"9A"' in (s["attrs"] or "") for r in loaded for s in r.stays if s["stage"] == "assessment")
        return {
            "source_child_id": child_id,
            "la": self.la,
            "sex": sex,
            "ethnicity": ethnicity,
            "birth_date": birth,
            "disability": bool(disabilities) and any(d.upper() != "NONE" for d in disabilities),
            "uasc": uasc,
            "attrs": json.dumps(attrs, sort_keys=True),
        }

    # -- one CINdetails -----------------------------------------------------------------------
    def _need(self, record: _Record, cd, child_id: str) -> None:
        dates = _Dates(record, self.today)
        referral = dates.get(cd, "CINdetails/CINreferralDate")
        if referral is None and not record.problems:
            record.problems.append(
                ("CINdetails/CINreferralDate", "", "episode of need has no referral date",
                 "every <CINdetails> needs <CINreferralDate>; fix the export")
            )
        closure = dates.get(cd, "CINdetails/CINclosureDate")
        dates.order("CINdetails/CINclosureDate", referral, closure)
        top_icpc = dates.get(cd, "CINdetails/DateOfInitialCPC")

        assessments = []
        for block in children_named(cd, "Assessments"):
            start = dates.get(block, "Assessments/AssessmentActualStartDate")
            auth = dates.get(block, "Assessments/AssessmentAuthorisationDate")
            dates.order("Assessments/AssessmentAuthorisationDate", start, auth)
            factors = [
                (f.text or "").strip()
                for fb in children_named(block, "FactorsIdentifiedAtAssessment")
                for f in children_named(fb, "AssessmentFactors")
            ]
            if start is None and not record.problems:
                record.problems.append(("Assessments/AssessmentActualStartDate", "", "assessment has no start date",
                                        "give the assessment start date or remove the empty <Assessments>"))
            assessments.append((start, auth, [f for f in factors if f]))
        plans = []
        for block in children_named(cd, "CINPlanDates"):
            start = dates.get(block, "CINPlanDates/CINPlanStartDate")
            end = dates.get(block, "CINPlanDates/CINPlanEndDate")
            dates.order("CINPlanDates/CINPlanEndDate", start, end)
            if start is not None:
                plans.append((start, end))
        s47s = []
        for block in children_named(cd, "Section47"):
            start = dates.get(block, "Section47/S47ActualStartDate")
            target = dates.get(block, "Section47/InitialCPCtarget", future_ok=True)
            icpc = dates.get(block, "Section47/DateOfInitialCPC")
            dates.order("Section47/DateOfInitialCPC", start, icpc)
            not_required = (text_of(block, "ICPCnotRequired") or "") in _TRUE
            if start is not None:
                s47s.append((start, target, icpc, not_required))
        cpps = []
        for block in children_named(cd, "ChildProtectionPlans"):
            start = dates.get(block, "ChildProtectionPlans/CPPstartDate")
            end = dates.get(block, "ChildProtectionPlans/CPPendDate")
            dates.order("ChildProtectionPlans/CPPendDate", start, end)
            reviews = sum(len(children_named(r, "CPPreviewDate")) for r in children_named(block, "Reviews"))
            if start is not None:
                cpps.append((start, end, block, reviews))
        pre = self._pre_proceedings(cd, dates)
        if record.problems:
            return
        key = (child_id, referral)
        if key in self.needs_seen:
            record.problems.append(
                ("CINdetails/CINreferralDate", referral.isoformat(),
                 f"duplicate episode of need: same child and referral date as row {self.needs_seen[key]}",
                 "remove the repeated <CINdetails> from the export")
            )
            return
        self.needs_seen[key] = record.row
        need = _Need(child_id, referral, record.row, closure, text_of(cd, "ReasonForClosure"))
        need.referral(cd, assessments, s47s, plans, cpps, self.year)
        need.assessments(assessments, s47s, plans, cpps)
        need.section47(s47s, plans, cpps, top_icpc)
        need.plans(plans, cpps)
        need.pre_proceedings(pre)
        record.stays = need.stays

    def _pre_proceedings(self, cd, dates: _Dates) -> list[tuple]:
        """The 2026 pre-proceedings (PLO) block: any child of CINdetails named like PreProceedings/PLO."""
        found = []
        for block in cd:
            tag = local(block.tag).lower() if isinstance(block.tag, str) else ""
            if not (tag.startswith("preproceeding") or tag.startswith("plo") or tag == "pre_proceedings"):
                continue
            start = end = None
            outcome = None
            for item in block:
                item_tag = local(item.tag) if isinstance(item.tag, str) else ""
                low = item_tag.lower()
                if "start" in low or low.endswith("date") and start is None and "end" not in low:
                    start = dates.get(block, f"{local(block.tag)}/{item_tag}")
                elif "end" in low:
                    end = dates.get(block, f"{local(block.tag)}/{item_tag}")
                elif "outcome" in low or "decision" in low or "reason" in low:
                    outcome = (item.text or "").strip() or None
            dates.order(f"{local(block.tag)}/end", start, end)
            if start is not None:
                found.append((start, end, outcome))
        return found

    def truncated(self, err: XmlTruncated) -> None:
        self.rows_read += 1
        self.quarantine.append({
            "source_row": self.rows_read, "column": "(xml)", "value": "",
            "problem": f"XML broken at line {err.line} ({err.message}); records after it were not read",
            "hint": "the file is damaged or truncated; export the return again",
        })
        self.warnings.append(
            f"{self.name}: XML broken at line {err.line}; kept the {self.rows_loaded} records read before it"
        )

    # -- frames -------------------------------------------------------------------------------
    def result(self) -> ReadResult:
        result = ReadResult(source=self.name, format=FORMAT, rows_read=self.rows_read, rows_loaded=self.rows_loaded)
        if self.children:
            result.children = pd.DataFrame(list(self.children.values()), columns=CHILD_COLUMNS)
            result.identifiers = pd.DataFrame(list(self.identifiers.values()), columns=IDENTIFIER_COLUMNS)
        if self.episodes:
            frame = pd.DataFrame(self.episodes, columns=EPISODE_COLUMNS)
            frame["start"] = pd.to_datetime(frame["start"])
            frame["end"] = pd.to_datetime(frame["end"])
            frame["source_row"] = frame["source_row"].astype("int64")
            result.episodes = frame
        if self.quarantine:
            result.quarantine = pd.DataFrame(self.quarantine, columns=QUARANTINE_COLUMNS)
        result.warnings = self.warnings
        if self.rows_read == 0:
            raise SourceError(
                f"{self.name}: no <Child> records found in the CIN census file",
                hint="check the export holds children (<Message><Children><Child>...)",
            )
        return result


def _ts(value: dt.date | None):
    return None if value is None else pd.Timestamp(value)


class _Need:
    """Builds the stays of one episode of need from its parsed dates."""

    def __init__(self, child_id: str, referral: dt.date, row: int, closure, reason) -> None:
        self.child_id = child_id
        self.referral_date = referral
        self.key = f"{child_id}/{referral.isoformat()}"
        self.row = row
        self.closure = closure
        self.reason = reason
        self.closure_exit = CLOSURE_EXITS.get(reason or "", "closed") if closure else None
        self.stays: list[dict] = []

    def add(self, stage, start, end, outcome, attrs: dict | None = None) -> None:
        self.stays.append({
            "source_child_id": self.child_id, "stage": stage, "start": _ts(start), "end": _ts(end),
            "outcome": outcome, "need_key": self.key, "team": None, "worker": None,
            "attrs": json.dumps({k: v for k, v in (attrs or {}).items() if v not in (None, [], "")}, sort_keys=True),
            "source_row": self.row,
        })

    @staticmethod
    def _first(after: dt.date, candidates: list[tuple[dt.date, str]]) -> tuple[dt.date, str] | None:
        later = [c for c in candidates if c[0] is not None and c[0] >= after]
        return min(later, key=lambda c: c[0]) if later else None

    def referral(self, cd, assessments, s47s, plans, cpps, year) -> None:
        onward = [(a[0], "assessment") for a in assessments] + [(s[0], "strategy_discussion") for s in s47s]
        onward += [(p[0], "cin_plan") for p in plans] + [(c[0], "cp_plan") for c in cpps]
        nfa = (text_of(cd, "ReferralNFA") or "") in _TRUE
        step = self._first(self.referral_date, onward)
        if step is not None:
            end, outcome = step
        elif nfa:
            end, outcome = (self.closure or self.referral_date), "nfa"
        elif self.closure is not None:
            end, outcome = self.closure, self.closure_exit
        else:
            end, outcome = None, None
        self.add("referral", self.referral_date, end, outcome, {
            "referral_source": text_of(cd, "ReferralSource"),
            "primary_need": text_of(cd, "PrimaryNeedCode"),
            "referral_nfa": nfa,
            "closure_reason": self.reason,
            "closure_date": self.closure.isoformat() if self.closure else None,
            "census_year": year,
        })

    def _closing(self, fallback_exit: str | None) -> str | None:
        if self.closure is None:
            return None
        return CLOSURE_EXITS.get(self.reason or "", fallback_exit)

    def assessments(self, assessments, s47s, plans, cpps) -> None:
        for start, auth, factors in assessments:
            outcome = None
            if auth is not None:
                onward = [(s[0], "strategy_discussion") for s in s47s]
                onward += [(p[0], "cin_plan") for p in plans] + [(c[0], "cp_plan") for c in cpps]
                onward += [(a[0], "assessment") for a in assessments if a[0] and a[0] > start]
                step = self._first(start, onward)
                outcome = step[1] if step else self._closing("nfa")
            self.add("assessment", start, auth, outcome, {"factors": factors})

    def section47(self, s47s, plans, cpps, top_icpc) -> None:
        icpc_dates = set()
        for start, target, icpc, not_required in s47s:
            self.add("strategy_discussion", start, start, "s47")
            attrs = {"icpc_due": target.isoformat() if target else None, "icpc_not_required": not_required}
            if icpc is not None:
                self.add("s47", start, icpc, "icpc", attrs)
                self._icpc(icpc, plans, cpps)
                icpc_dates.add(icpc)
                continue
            step = self._first(start, [(p[0], "cin_plan") for p in plans] + [(c[0], "cp_plan") for c in cpps])
            if step is not None:
                self.add("s47", start, step[0], step[1], attrs)
            elif self.closure is not None:
                self.add("s47", start, self.closure, "nfa", attrs)
            elif not_required:
                self.add("s47", start, start, "nfa", {**attrs, "end_unknown": True})
            else:
                self.add("s47", start, None, None, attrs)
        if top_icpc is not None and top_icpc not in icpc_dates:
            self._icpc(top_icpc, plans, cpps)

    def _icpc(self, icpc, plans, cpps) -> None:
        week = dt.timedelta(days=7)
        if any(icpc <= c[0] <= icpc + week for c in cpps):
            outcome = "cp_plan"
        elif any(icpc <= p[0] <= icpc + 4 * week for p in plans):
            outcome = "cin_plan"
        else:
            outcome = "nfa"
        self.add("icpc", icpc, icpc, outcome)

    def plans(self, plans, cpps) -> None:
        day, week = dt.timedelta(days=1), dt.timedelta(days=7)
        for start, end in plans:
            outcome = None
            if end is not None:
                moved = any(start <= c[0] <= end + day for c in cpps)
                outcome = "cp_plan" if moved else "closed"
            self.add("cin_plan", start, end, outcome)
        for start, end, block, reviews in cpps:
            outcome = None
            if end is not None:
                stepped = any(end - day <= p[0] <= end + week for p in plans)
                outcome = "cin_plan" if stepped else "closed"
            previous = text_of(block, "NumberOfPreviousCPP")
            self.add("cp_plan", start, end, outcome, {
                "category_of_abuse": text_of(block, "LatestCategoryOfAbuse"),
                "initial_category": text_of(block, "InitialCategoryOfAbuse"),
                "previous_cpp": int(previous) if previous and previous.isdigit() else None,
                "reviews": reviews or None,
            })

    def pre_proceedings(self, pre) -> None:
        for start, end, raw in pre:
            outcome = None
            if raw:
                outcome = "proceedings" if ("proceed" in raw.lower() or raw.lower() in _TRUE) else "closed"
            elif end is not None:
                outcome = "closed"
            self.add("pre_proceedings", start, end, outcome, {"plo_outcome": raw})
