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
from pathlib import Path

import numpy as np
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
    """Accumulates the frames of one file while its Child elements stream past.

    Each <Child> is read by direct child iteration into plain dicts of element texts (first
    occurrence wins, as the XSD allows one); dates go through a per-file cache (a census
    repeats a few thousand distinct dates); stays are appended column by column and the
    frames are built once at the end.
    """

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
        self.stays = _Stays()
        self.quarantine: list[dict] = []
        self.warnings: list[str] = []
        self.needs_seen: dict[tuple[str, dt.date], int] = {}
        self._date_cache: dict[str, tuple] = {}

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

    # -- dates --------------------------------------------------------------------------------
    def date(self, raw: str | None, path: str, problems: list, future_ok: bool = False) -> dt.date | None:
        """The date in an element's raw text; a problem is appended (and None returned) if it is bad."""
        if raw is None:
            return None
        hit = self._date_cache.get(raw)
        if hit is None:
            hit = self._classify(raw)
        value, kind, text = hit
        if kind == _OK or (kind == _FUTURE and future_ok):
            return value
        problems.append((path, text, *_DATE_PROBLEMS[kind]))
        return None

    def _classify(self, raw: str) -> tuple:
        text = raw.strip()
        try:
            value = parse_date(text)
        except ValueError:
            hit = (None, _BAD, text)
        else:
            if value is None:
                hit = (None, _OK, "")
            elif value < _EARLIEST:
                hit = (None, _EARLY, text)
            elif value > self.today:
                hit = (value, _FUTURE, text)
            else:
                hit = (value, _OK, text)
        if len(self._date_cache) < _DATE_CACHE_MAX:
            self._date_cache[raw] = hit
        return hit

    # -- one Child ----------------------------------------------------------------------------
    def child(self, elem) -> None:
        self.children_seen += 1
        index = self.children_seen
        ids = chars = None
        details = []
        for part in elem:
            tag = part.tag
            name = _LOCAL.get(tag) or _local(tag)
            if name == "CINdetails":
                details.append(part)
            elif name == "ChildIdentifiers":
                if ids is None:
                    ids = _texts(part)
            elif name == "ChildCharacteristics" and chars is None:
                chars = part
        first_row = self.rows_read + 1
        n_records = max(1, len(details))
        self.rows_read += n_records

        # child-level facts, checked once and charged to every record of the child
        probe: list = []
        birth = expected = child_id = None
        if ids is not None:
            child_id = _text(ids.get("LAchildID"))
            birth = self.date(ids.get("PersonBirthDate"), "ChildIdentifiers/PersonBirthDate", probe)
            expected = self.date(ids.get("ExpectedPersonBirthDate"), "ChildIdentifiers/ExpectedPersonBirthDate",
                                 probe, True)
        if not child_id:
            probe.append(("ChildIdentifiers/LAchildID", "", "child has no LAchildID",
                          "every <Child> needs <ChildIdentifiers><LAchildID>; fix the export"))
        loaded = 0
        uasc_any = uasc_assessed = False
        for i in range(n_records):
            row = first_row + i
            if probe:
                problems = probe
            else:
                problems = []
                if details:
                    need = self._need(row, details[i], child_id, problems)
                    if need is not None:
                        uasc_any = uasc_any or need.uasc_any
                        uasc_assessed = uasc_assessed or need.uasc_assessed
            if problems:
                for column, value, problem, hint in problems:
                    self.quarantine.append({
                        "source_row": row, "column": column, "value": value,
                        "problem": f"{problem} (Child element {index})", "hint": hint,
                    })
            else:
                loaded += 1
        if not loaded:
            return
        self.rows_loaded += loaded
        if child_id not in self.children:
            self.children[child_id] = self._child_row(child_id, ids, chars, birth, expected, uasc_assessed)
            self.identifiers[child_id] = {
                "source_child_id": child_id,
                "upn": _text(ids.get("UPN")),
                "surname": None,
                "forenames": None,
                "birth_date": birth,
            }
        elif uasc_any:
            self.children[child_id]["uasc"] = True

    def _child_row(self, child_id, ids, chars, birth, expected, uasc) -> dict:
        sex_raw = _text(ids.get("Sex")) or _text(ids.get("GenderCurrent"))
        sex = SEX_CODES.get((sex_raw or "").strip().upper(), "U")
        disabilities: list[str] = []
        ethnicity = None
        if chars is not None:
            seen_ethnicity = False
            for part in chars:
                name = _LOCAL.get(part.tag) or _local(part.tag)
                if name == "Ethnicity":
                    if not seen_ethnicity:  # the first Ethnicity counts
                        ethnicity = _text(part.text)
                        seen_ethnicity = True
                elif name == "Disabilities":
                    for d in part:
                        if (_LOCAL.get(d.tag) or _local(d.tag)) == "Disability":
                            value = (d.text or "").strip()
                            if value:
                                disabilities.append(value)
        attrs: dict = {}
        if disabilities:
            attrs["disabilities"] = disabilities
        if birth is None and expected is not None:
            attrs["unborn_at_census"] = True
            attrs["expected_birth_month"] = expected.replace(day=1).isoformat()
        unknown = _text(ids.get("UPNunknown"))
        if unknown:
            attrs["upn_unknown"] = unknown
        if self.year:
            attrs["census_year"] = self.year
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
    def _need(self, row: int, cd, child_id: str, problems: list) -> _Need | None:
        """Check one CINdetails and, when it is clean, append its stays; problems go to ``problems``."""
        leaves: dict = {}
        assessment_blocks = []
        plan_blocks = []
        s47_blocks = []
        cpp_blocks = []
        pre_blocks = []
        for part in cd:
            tag = part.tag
            name = _LOCAL.get(tag) or _local(tag)
            if name in _CD_BLOCKS:
                if name == "Assessments":
                    assessment_blocks.append(part)
                elif name == "Section47":
                    s47_blocks.append(part)
                elif name == "CINPlanDates":
                    plan_blocks.append(part)
                else:
                    cpp_blocks.append(part)
            else:
                if name not in leaves:
                    leaves[name] = part.text
                if name not in _CD_LEAVES and _is_pre_proceedings(name):
                    pre_blocks.append(part)
        date = self.date
        referral = date(leaves.get("CINreferralDate"), "CINdetails/CINreferralDate", problems)
        if referral is None and not problems:
            problems.append(("CINdetails/CINreferralDate", "", "episode of need has no referral date",
                             "every <CINdetails> needs <CINreferralDate>; fix the export"))
        closure = date(leaves.get("CINclosureDate"), "CINdetails/CINclosureDate", problems)
        _order(problems, "CINdetails/CINclosureDate", referral, closure)
        top_icpc = date(leaves.get("DateOfInitialCPC"), "CINdetails/DateOfInitialCPC", problems)

        assessments = []
        for block in assessment_blocks:
            fields: dict = {}
            factors = []
            for part in block:
                name = _LOCAL.get(part.tag) or _local(part.tag)
                if name == "FactorsIdentifiedAtAssessment":
                    for f in part:
                        if (_LOCAL.get(f.tag) or _local(f.tag)) == "AssessmentFactors":
                            value = (f.text or "").strip()
                            if value:
                                factors.append(value)
                if name not in fields:
                    fields[name] = part.text
            start = date(fields.get("AssessmentActualStartDate"), "Assessments/AssessmentActualStartDate", problems)
            auth = date(fields.get("AssessmentAuthorisationDate"), "Assessments/AssessmentAuthorisationDate",
                        problems)
            _order(problems, "Assessments/AssessmentAuthorisationDate", start, auth)
            if start is None and not problems:
                problems.append(("Assessments/AssessmentActualStartDate", "", "assessment has no start date",
                                 "give the assessment start date or remove the empty <Assessments>"))
            assessments.append((start, auth, factors))
        plans = []
        for block in plan_blocks:
            fields = _texts(block)
            start = date(fields.get("CINPlanStartDate"), "CINPlanDates/CINPlanStartDate", problems)
            end = date(fields.get("CINPlanEndDate"), "CINPlanDates/CINPlanEndDate", problems)
            _order(problems, "CINPlanDates/CINPlanEndDate", start, end)
            if start is not None:
                plans.append((start, end))
        s47s = []
        for block in s47_blocks:
            fields = _texts(block)
            start = date(fields.get("S47ActualStartDate"), "Section47/S47ActualStartDate", problems)
            target = date(fields.get("InitialCPCtarget"), "Section47/InitialCPCtarget", problems, True)
            icpc = date(fields.get("DateOfInitialCPC"), "Section47/DateOfInitialCPC", problems)
            _order(problems, "Section47/DateOfInitialCPC", start, icpc)
            not_required = (_text(fields.get("ICPCnotRequired")) or "") in _TRUE
            if start is not None:
                s47s.append((start, target, icpc, not_required))
        cpps = []
        for block in cpp_blocks:
            fields = {}
            reviews = 0
            for part in block:
                name = _LOCAL.get(part.tag) or _local(part.tag)
                if name == "Reviews":
                    for r in part:
                        if (_LOCAL.get(r.tag) or _local(r.tag)) == "CPPreviewDate":
                            reviews += 1
                if name not in fields:
                    fields[name] = part.text
            start = date(fields.get("CPPstartDate"), "ChildProtectionPlans/CPPstartDate", problems)
            end = date(fields.get("CPPendDate"), "ChildProtectionPlans/CPPendDate", problems)
            _order(problems, "ChildProtectionPlans/CPPendDate", start, end)
            if start is not None:
                cpps.append((start, end, fields, reviews))
        pre = self._pre_proceedings(pre_blocks, problems) if pre_blocks else []
        if problems:
            return None
        key = (child_id, referral)
        seen = self.needs_seen.get(key)
        if seen is not None:
            problems.append(
                ("CINdetails/CINreferralDate", referral.isoformat(),
                 f"duplicate episode of need: same child and referral date as row {seen}",
                 "remove the repeated <CINdetails> from the export")
            )
            return None
        self.needs_seen[key] = row
        need = _Need(self.stays, child_id, referral, row, closure, _text(leaves.get("ReasonForClosure")))
        need.referral(leaves, assessments, s47s, plans, cpps, self.year)
        need.assessments(assessments, s47s, plans, cpps)
        need.section47(s47s, plans, cpps, top_icpc)
        need.plans(plans, cpps)
        need.pre_proceedings(pre)
        return need

    def _pre_proceedings(self, blocks: list, problems: list) -> list[tuple]:
        """The 2026 pre-proceedings (PLO) blocks: children of CINdetails named like PreProceedings/PLO."""
        found = []
        for block in blocks:
            block_name = local(block.tag)
            start = end = None
            outcome = None
            for item in block:
                item_tag = local(item.tag) if isinstance(item.tag, str) else ""
                low = item_tag.lower()
                if "start" in low or low.endswith("date") and start is None and "end" not in low:
                    start = self.date(text_of(block, item_tag), f"{block_name}/{item_tag}", problems)
                elif "end" in low:
                    end = self.date(text_of(block, item_tag), f"{block_name}/{item_tag}", problems)
                elif "outcome" in low or "decision" in low or "reason" in low:
                    outcome = (item.text or "").strip() or None
            _order(problems, f"{block_name}/end", start, end)
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
        if self.stays.stage:
            result.episodes = self.stays.frame()
        if self.quarantine:
            result.quarantine = pd.DataFrame(self.quarantine, columns=QUARANTINE_COLUMNS)
        result.warnings = self.warnings
        if self.rows_read == 0:
            raise SourceError(
                f"{self.name}: no <Child> records found in the CIN census file",
                hint="check the export holds children (<Message><Children><Child>...)",
            )
        return result


# -- element and value helpers ------------------------------------------------------------------
_OK, _BAD, _EARLY, _FUTURE = range(4)
_DATE_PROBLEMS = {
    _BAD: ("not a date", _DATE_HINT),
    _EARLY: ("impossible date (before 1900)", _DATE_HINT),
    _FUTURE: ("date in the future", "correct the date in the case system and re-export"),
}
_DATE_CACHE_MAX = 200_000
#: tag -> local name; bounded so that a file of made-up tags cannot grow it without limit.
_LOCAL: dict = {}
_LOCAL_MAX = 10_000
_CD_BLOCKS = frozenset({"Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans"})
_CD_LEAVES = frozenset({"CINreferralDate", "ReferralSource", "PrimaryNeedCode", "CINclosureDate",
                        "ReasonForClosure", "DateOfInitialCPC", "ReferralNFA", "Assessments", "CINPlanDates",
                        "Section47", "ChildProtectionPlans"})


def _local(tag) -> str:
    name = local(tag)
    if len(_LOCAL) < _LOCAL_MAX:
        _LOCAL[tag] = name
    return name


def _texts(elem) -> dict:
    """Raw text of each direct child of ``elem`` by local name (the first of a repeated name)."""
    out: dict = {}
    for part in elem:
        name = _LOCAL.get(part.tag) or _local(part.tag)
        if name not in out:
            out[name] = part.text
    return out


def _text(raw: str | None) -> str | None:
    """An element's text stripped, None when empty (as :func:`cin_stream.text_of`)."""
    if raw:
        raw = raw.strip()
    return raw or None


def _is_pre_proceedings(name: str) -> bool:
    low = name.lower()
    return low.startswith("preproceeding") or low.startswith("plo") or low == "pre_proceedings"


def _order(problems: list, path: str, start: dt.date | None, end: dt.date | None) -> None:
    if start is not None and end is not None and end < start:
        problems.append((path, end.isoformat(), f"end before start ({start.isoformat()})",
                         "correct the start or end date in the case system and re-export"))


class _Stays:
    """The episodes frame of one file, collected column by column."""

    def __init__(self) -> None:
        self.child: list = []
        self.stage: list = []
        self.start: list = []
        self.end: list = []
        self.outcome: list = []
        self.need: list = []
        self.attrs: list = []
        self.row: list = []

    def frame(self) -> pd.DataFrame:
        n = len(self.stage)
        frame = pd.DataFrame({
            "source_child_id": self.child, "stage": self.stage,
            "start": _datetimes(self.start), "end": _datetimes(self.end),
            "outcome": self.outcome, "need_key": self.need,
            "team": [None] * n, "worker": [None] * n,
            "attrs": self.attrs, "source_row": np.asarray(self.row, dtype="int64"),
        }, columns=EPISODE_COLUMNS)
        return frame


def _datetimes(values: list) -> np.ndarray:
    """``datetime64[ns]`` of a list of dates and Nones (each distinct date converted once)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    if len(uniques) == 0:
        return np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    converted = np.array([np.datetime64(d, "D") for d in uniques], dtype="datetime64[D]").astype("datetime64[ns]")
    out = converted[codes]
    out[codes < 0] = np.datetime64("NaT")
    return out


_quote = json.encoder.encode_basestring_ascii  # the C escaper json.dumps uses


def _attrs_json(items: tuple) -> str:
    """``json.dumps(dict(items), sort_keys=True)`` without None, "" and [] values; keys come sorted."""
    parts = []
    for key, value in items:
        if value is None or value == "" or value == []:
            continue
        if value is True:
            text = "true"
        elif value is False:
            text = "false"
        elif isinstance(value, str):
            text = _quote(value)
        elif isinstance(value, int):
            text = str(value)
        elif isinstance(value, list):
            text = "[" + ", ".join(map(_quote, value)) + "]"
        else:
            text = json.dumps(value)
        parts.append(f'"{key}": {text}')
    return "{" + ", ".join(parts) + "}"


_DAY = dt.timedelta(days=1)
_WEEK = dt.timedelta(days=7)


class _Need:
    """Builds the stays of one episode of need from its parsed dates, appending them to ``sink``.

    ``uasc_any`` records whether any attribute of its stays is the code ``9A`` and
    ``uasc_assessed`` whether an assessment found factor 9A (unaccompanied asylum seeker).
    """

    __slots__ = ("sink", "child_id", "referral_date", "key", "row", "closure", "reason", "closure_exit",
                 "uasc_any", "uasc_assessed")

    def __init__(self, sink: _Stays, child_id: str, referral: dt.date, row: int, closure, reason) -> None:
        self.sink = sink
        self.child_id = child_id
        self.referral_date = referral
        self.key = f"{child_id}/{referral.isoformat()}"
        self.row = row
        self.closure = closure
        self.reason = reason
        self.closure_exit = CLOSURE_EXITS.get(reason or "", "closed") if closure else None
        self.uasc_any = False
        self.uasc_assessed = False

    def add(self, stage, start, end, outcome, attrs: str = "{}") -> None:
        sink = self.sink
        sink.child.append(self.child_id)
        sink.stage.append(stage)
        sink.start.append(start)
        sink.end.append(end)
        sink.outcome.append(outcome)
        sink.need.append(self.key)
        sink.attrs.append(attrs)
        sink.row.append(self.row)

    @staticmethod
    def _first(after: dt.date, candidates: list[tuple[dt.date, str]]) -> tuple[dt.date, str] | None:
        later = [c for c in candidates if c[0] is not None and c[0] >= after]
        return min(later, key=lambda c: c[0]) if later else None

    def referral(self, leaves: dict, assessments, s47s, plans, cpps, year) -> None:
        onward = [(a[0], "assessment") for a in assessments] + [(s[0], "strategy_discussion") for s in s47s]
        onward += [(p[0], "cin_plan") for p in plans] + [(c[0], "cp_plan") for c in cpps]
        nfa = (_text(leaves.get("ReferralNFA")) or "") in _TRUE
        step = self._first(self.referral_date, onward) if onward else None
        if step is not None:
            end, outcome = step
        elif nfa:
            end, outcome = (self.closure or self.referral_date), "nfa"
        elif self.closure is not None:
            end, outcome = self.closure, self.closure_exit
        else:
            end, outcome = None, None
        source = _text(leaves.get("ReferralSource"))
        need = _text(leaves.get("PrimaryNeedCode"))
        if "9A" in (source, need, self.reason):
            self.uasc_any = True
        self.add("referral", self.referral_date, end, outcome, _attrs_json((
            ("census_year", year),
            ("closure_date", self.closure.isoformat() if self.closure else None),
            ("closure_reason", self.reason),
            ("primary_need", need),
            ("referral_nfa", nfa),
            ("referral_source", source),
        )))

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
            if "9A" in factors:
                self.uasc_any = self.uasc_assessed = True
            self.add("assessment", start, auth, outcome,
                     "{" + '"factors": [' + ", ".join(map(_quote, factors)) + "]}" if factors else "{}")

    def section47(self, s47s, plans, cpps, top_icpc) -> None:
        icpc_dates = set()
        for start, target, icpc, not_required in s47s:
            self.add("strategy_discussion", start, start, "s47")
            due = target.isoformat() if target else None
            if icpc is not None:
                self.add("s47", start, icpc, "icpc", _attrs_json((("icpc_due", due), ("icpc_not_required", not_required))))
                self._icpc(icpc, plans, cpps)
                icpc_dates.add(icpc)
                continue
            step = self._first(start, [(p[0], "cin_plan") for p in plans] + [(c[0], "cp_plan") for c in cpps])
            attrs = _attrs_json((("icpc_due", due), ("icpc_not_required", not_required)))
            if step is not None:
                self.add("s47", start, step[0], step[1], attrs)
            elif self.closure is not None:
                self.add("s47", start, self.closure, "nfa", attrs)
            elif not_required:
                self.add("s47", start, start, "nfa", _attrs_json((
                    ("end_unknown", True), ("icpc_due", due), ("icpc_not_required", not_required))))
            else:
                self.add("s47", start, None, None, attrs)
        if top_icpc is not None and top_icpc not in icpc_dates:
            self._icpc(top_icpc, plans, cpps)

    def _icpc(self, icpc, plans, cpps) -> None:
        if any(icpc <= c[0] <= icpc + _WEEK for c in cpps):
            outcome = "cp_plan"
        elif any(icpc <= p[0] <= icpc + 4 * _WEEK for p in plans):
            outcome = "cin_plan"
        else:
            outcome = "nfa"
        self.add("icpc", icpc, icpc, outcome)

    def plans(self, plans, cpps) -> None:
        for start, end in plans:
            outcome = None
            if end is not None:
                moved = any(start <= c[0] <= end + _DAY for c in cpps)
                outcome = "cp_plan" if moved else "closed"
            self.add("cin_plan", start, end, outcome)
        for start, end, fields, reviews in cpps:
            outcome = None
            if end is not None:
                stepped = any(end - _DAY <= p[0] <= end + _WEEK for p in plans)
                outcome = "cin_plan" if stepped else "closed"
            previous = _text(fields.get("NumberOfPreviousCPP"))
            latest = _text(fields.get("LatestCategoryOfAbuse"))
            initial = _text(fields.get("InitialCategoryOfAbuse"))
            if "9A" in (latest, initial):
                self.uasc_any = True
            self.add("cp_plan", start, end, outcome, _attrs_json((
                ("category_of_abuse", latest),
                ("initial_category", initial),
                ("previous_cpp", int(previous) if previous and previous.isdigit() else None),
                ("reviews", reviews or None),
            )))

    def pre_proceedings(self, pre) -> None:
        for start, end, raw in pre:
            outcome = None
            if raw:
                outcome = "proceedings" if ("proceed" in raw.lower() or raw.lower() in _TRUE) else "closed"
            elif end is not None:
                outcome = "closed"
            if raw == "9A":
                self.uasc_any = True
            self.add("pre_proceedings", start, end, outcome, _attrs_json((("plo_outcome", raw),)))
