"""Read CIN census XML returns (2017-2026 layouts) into the canonical frames.

One ``<CINdetails>`` is one episode of need (``need_key`` = LA child id and
referral date, stable across census years) and one *record* of the file: it is
either loaded or quarantined whole. It yields the stays of docs/data-model.md:
``referral``, ``assessment``, ``strategy_discussion`` (the discussion that opened
an S47 enquiry, dated by ``S47ActualStartDate``), ``s47``, ``icpc``,
``cin_plan``, ``cp_plan`` and, from the 2026 layout, ``pre_proceedings``; each CP plan's review
conference dates (``<Reviews><CPPreviewDate>``) become ``reviews`` rows (stage ``cp_plan``; a date that
is not one quarantines its record, as any other date of the record).
The file is parsed as a stream (see :mod:`cscflow.sources.cin.stream`): each ``<Child>``
is cleared once its element texts are copied into column lists, so the XML tree never
holds more than one child; the record checks (:mod:`cscflow.sources.cin.checks`) and the
stays (:mod:`cscflow.sources.cin.stays`) are then computed once per file on whole columns.

>>> from pathlib import Path
>>> import cscflow.sources.cin as cin
>>> callable(cin.read)
True
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from cscflow.errors import SourceError
from cscflow.sources.base import QUARANTINE_COLUMNS, ReadResult, source_name
from cscflow.sources.cin.build import build
from cscflow.sources.cin.frames import (
    CLOSURE_EXITS,
    DATE_PROBLEMS,
    OK,
    ORDER_HINT,
    SEX_CODES,
    CinTables,
    classify_date,
)
from cscflow.sources.cin.stream import (
    XmlTruncated,
    children_named,
    iter_records,
    local,
    parse_date,
    sniff_root,
    text_of,
)

FORMAT = "cin"
__all__ = ["CLOSURE_EXITS", "FORMAT", "SEX_CODES", "read", "read_file"]


def read(paths: list[Path], *, validate: bool = False, la: str | None = None, **options: Any) -> list[ReadResult]:
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
        child = reader.child
        for elem in iter_records(path, "Child", also=("Header",)):
            if elem.tag == "Child" or local(elem.tag) != "Header":
                child(elem)
            else:
                reader.header(elem)
    except XmlTruncated as err:
        if reader.rows_read == 0 and reader.children_seen == 0:
            raise SourceError(
                f"{name}: not well-formed XML (line {err.line}: {err.message})",
                hint="the file is damaged or truncated; export the return again",
            ) from None
        reader.truncated(err)
    result = reader.result()
    if validate:
        from cscflow.sources.cin.xsd import validate_cin

        result.warnings.extend(validate_cin(path, reader.year))
    result.check_accounted()
    return result, reader.year


class _CinReader:
    """Copies the element texts of one file into :class:`CinTables` while its Child elements stream past.

    Each <Child> is read by direct child iteration into plain dicts and lists (the first of a
    repeated element counts, as with the XSD's single occurrences); checks and stays are then
    computed once per file on whole columns (:mod:`cscflow.sources.cin.frames`).
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
        self.tables = CinTables()
        self.warnings: list[str] = []
        self.broken: dict[str, Any] | None = None
        self.broken_line = 0

    # -- header -------------------------------------------------------------------------------
    def header(self, elem: Any) -> None:
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
    def child(self, elem: Any) -> None:
        self.children_seen += 1
        index = self.children_seen
        first_row = self.rows_read + 1
        ids = chars = None
        n_details = 0
        for part in elem:
            tag = part.tag
            name = _LOCAL.get(tag) or _local(tag)
            if name == "CINdetails":
                self._need(first_row + n_details, index, part)
                n_details += 1
            elif name == "ChildIdentifiers":
                if ids is None:
                    ids = _texts(part)
            elif name == "ChildCharacteristics" and chars is None:
                chars = part
        records = n_details or 1
        self.rows_read += records
        ethnicity = None
        disabilities: list[str] = []
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
        if ids is None:
            self.tables.add_child(index, first_row, records, None, None, None, None, None, None, ethnicity,
                                  tuple(disabilities))
            return
        get = ids.get
        self.tables.add_child(
            index, first_row, records, _text(get("LAchildID")), get("PersonBirthDate"),
            get("ExpectedPersonBirthDate"), _text(get("UPN")), _text(get("UPNunknown")),
            _text(get("Sex")) or _text(get("GenderCurrent")), ethnicity, tuple(disabilities),
        )

    # -- one CINdetails -----------------------------------------------------------------------
    def _need(self, row: int, child_index: int, cd: Any) -> None:
        t = self.tables
        leaves: dict[str, Any] = {}
        n_assessments = n_plans = n_s47 = n_cpps = n_pre = 0
        for part in cd:
            tag = part.tag
            name = _LOCAL.get(tag) or _local(tag)
            if name in _CD_BLOCKS:
                if name == "Assessments":
                    fields: dict[str, Any] = {}
                    factors = []
                    for item in part:
                        item_name = _LOCAL.get(item.tag) or _local(item.tag)
                        if item_name == "FactorsIdentifiedAtAssessment":
                            for f in item:
                                if (_LOCAL.get(f.tag) or _local(f.tag)) == "AssessmentFactors":
                                    value = (f.text or "").strip()
                                    if value:
                                        factors.append(value)
                        if item_name not in fields:
                            fields[item_name] = item.text
                    t.assessments.append((row, n_assessments, fields.get("AssessmentActualStartDate"),
                                          fields.get("AssessmentAuthorisationDate")))
                    t.a_factors.append(tuple(factors))
                    n_assessments += 1
                elif name == "Section47":
                    fields = _texts(part)
                    t.s47s.append((row, n_s47, fields.get("S47ActualStartDate"), fields.get("InitialCPCtarget"),
                                   fields.get("DateOfInitialCPC"), fields.get("ICPCnotRequired")))
                    n_s47 += 1
                elif name == "CINPlanDates":
                    fields = _texts(part)
                    t.plans.append((row, n_plans, fields.get("CINPlanStartDate"), fields.get("CINPlanEndDate")))
                    n_plans += 1
                else:
                    fields = {}
                    reviews = 0
                    for item in part:
                        item_name = _LOCAL.get(item.tag) or _local(item.tag)
                        if item_name == "Reviews":
                            for r in item:
                                if (_LOCAL.get(r.tag) or _local(r.tag)) == "CPPreviewDate":
                                    t.cp_reviews.append((row, n_cpps, reviews, r.text))
                                    reviews += 1
                        if item_name not in fields:
                            fields[item_name] = item.text
                    t.cpps.append((row, n_cpps, fields.get("CPPstartDate"), fields.get("CPPendDate"),
                                   fields.get("LatestCategoryOfAbuse"), fields.get("InitialCategoryOfAbuse"),
                                   fields.get("NumberOfPreviousCPP"), reviews))
                    n_cpps += 1
            else:
                if name not in leaves:
                    leaves[name] = part.text
                if name not in _CD_LEAVES and _is_pre_proceedings(name):
                    self._pre_proceedings(row, n_pre, part)
                    n_pre += 1
        t.add_need(row, child_index, leaves)

    def _pre_proceedings(self, row: int, k: int, block: Any) -> None:
        """A 2026 pre-proceedings (PLO) block: any child of CINdetails named like PreProceedings/PLO."""
        problems: list[Any] = []
        block_name = local(block.tag)
        start = end = None
        outcome = None
        for item in block:
            item_tag = local(item.tag) if isinstance(item.tag, str) else ""
            low = item_tag.lower()
            if "start" in low or low.endswith("date") and start is None and "end" not in low:
                start = self._date(text_of(block, item_tag), f"{block_name}/{item_tag}", problems)
            elif "end" in low:
                end = self._date(text_of(block, item_tag), f"{block_name}/{item_tag}", problems)
            elif "outcome" in low or "decision" in low or "reason" in low:
                outcome = (item.text or "").strip() or None
        if start is not None and end is not None and end < start:
            problems.append((f"{block_name}/end", end.isoformat(), f"end before start ({start.isoformat()})",
                             ORDER_HINT))
        self.tables.pre_problems.extend((row, k, j, *problem) for j, problem in enumerate(problems))
        if start is not None:
            self.tables.pre.append((row, k, start, end, outcome))

    def _date(self, raw: str | None, path: str, problems: list[Any]) -> dt.date | None:
        value, kind, text = classify_date(raw, self.today)
        if kind == OK:
            return value
        problems.append((path, text, *DATE_PROBLEMS[kind]))
        return None

    def truncated(self, err: XmlTruncated) -> None:
        self.rows_read += 1
        self.broken_line = err.line
        self.broken = {
            "source_row": self.rows_read, "column": "(xml)", "value": "",
            "problem": f"XML broken at line {err.line} ({err.message}); records after it were not read",
            "hint": "the file is damaged or truncated; export the return again",
        }

    # -- frames -------------------------------------------------------------------------------
    def result(self) -> ReadResult:
        if self.rows_read == 0:
            raise SourceError(
                f"{self.name}: no <Child> records found in the CIN census file",
                hint="check the export holds children (<Message><Children><Child>...)",
            )
        frames = build(self.tables, today=self.today, year=self.year, la=self.la)
        self.rows_loaded = frames.rows_loaded
        result = ReadResult(source=self.name, format=FORMAT, rows_read=self.rows_read, rows_loaded=self.rows_loaded)
        if len(frames.children):
            result.children = frames.children
            result.identifiers = frames.identifiers
        if frames.episodes is not None and len(frames.episodes):
            result.episodes = frames.episodes
        if frames.reviews is not None and len(frames.reviews):
            result.reviews = frames.reviews
        quarantine = frames.quarantine
        if self.broken is not None:
            broken = pd.DataFrame([self.broken], columns=QUARANTINE_COLUMNS)
            quarantine = broken if quarantine is None else pd.concat([quarantine, broken], ignore_index=True)
            self.warnings.append(
                f"{self.name}: XML broken at line {self.broken_line}; kept the {self.rows_loaded} records read before it"
            )
        if quarantine is not None:
            result.quarantine = quarantine
        result.warnings = self.warnings
        return result


# -- element helpers ------------------------------------------------------------------------------
#: tag -> local name; bounded so that a file of made-up tags cannot grow it without limit.
_LOCAL: dict[str, str] = {}
_LOCAL_MAX = 10_000
_CD_BLOCKS = frozenset({"Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans"})
_CD_LEAVES = frozenset({"CINreferralDate", "ReferralSource", "PrimaryNeedCode", "CINclosureDate",
                        "ReasonForClosure", "DateOfInitialCPC", "ReferralNFA", "Assessments", "CINPlanDates",
                        "Section47", "ChildProtectionPlans"})


def _local(tag: str) -> str:
    name = local(tag)
    if len(_LOCAL) < _LOCAL_MAX:
        _LOCAL[tag] = name
    return name


def _texts(elem: Any) -> dict[str, Any]:
    """Raw text of each direct child of ``elem`` by local name (the first of a repeated name)."""
    out: dict[str, Any] = {}
    for part in elem:
        name = _LOCAL.get(part.tag) or _local(part.tag)
        if name not in out:
            out[name] = part.text
    return out


def _text(raw: str | None) -> str | None:
    """An element's text stripped, None when empty (as :func:`cscflow.sources.cin.stream.text_of`)."""
    if raw:
        raw = raw.strip()
    return raw or None


def _is_pre_proceedings(name: str) -> bool:
    low = name.lower()
    return low.startswith("preproceeding") or low.startswith("plo") or low == "pre_proceedings"
