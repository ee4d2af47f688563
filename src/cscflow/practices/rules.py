"""Key practices as data: the rules file (``rules.yaml``, an LA copies and edits it) read and checked.

A rule is a *clock* (a start event, a stop event and a limit, e.g. the ICPC within 15 working days of
the strategy discussion) or a *never* event (a condition that must never hold, e.g. a child under 16
placed in accommodation not registered for care). :func:`load_rules` reads the bundled file or an LA's
copy and refuses, with the rule and the field named, anything the evaluator could not read.

>>> rules = load_rules()
>>> rules["icpc-15wd"].limit
Limit(amount=15, unit='working_days')
>>> [r.id for r in rules.values() if r.evaluable][:4]
['assessment-45wd', 'icpc-15wd', 'cp-review-3m', 'cp-review-6m']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cscflow.errors import AnalysisError

UNITS = ("working_days", "days", "weeks", "months", "hours")
KINDS = ("clock", "never")
TABLES = ("episodes", "proceedings", "children", "missing")
#: where a clock on episodes may start or stop that the evaluator reads (others: data unavailable)
STAY_ENDS = ("start", "end")


class RulesError(AnalysisError):
    """A rules file cannot be read or holds a rule the evaluator cannot run."""


@dataclass(frozen=True)
class Limit:
    """How long a clock may run: ``amount`` of ``unit``."""

    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.replace('_', ' ')}"


@dataclass(frozen=True)
class Rule:
    """One key practice (see ``rules.yaml`` for the fields)."""

    id: str
    description: str
    source: str
    kind: str
    clock: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)
    limit: Limit | None = None
    met: str = ""
    data: str = "evaluable"
    why: str = ""
    benchmark: dict[str, Any] = field(default_factory=dict)

    @property
    def evaluable(self) -> bool:
        """False when the rules file says the loaded returns cannot show it (``data: unavailable``)."""
        return self.data != "unavailable"

    @property
    def table(self) -> str:
        """The canonical table the rule reads."""
        return str((self.clock or self.check).get("table", "episodes"))


def _need(cond: bool, rid: str, what: str, hint: str) -> None:
    if not cond:
        raise RulesError(f"rule {rid!r}: {what}", hint=hint)


def _rule(raw: dict[str, Any], where: str) -> Rule:
    rid = str(raw.get("id", "")).strip()
    _need(bool(rid), f"#{where}", "has no id", "give every rule an id such as assessment-45wd")
    for key in ("description", "source", "kind"):
        _need(bool(raw.get(key)), rid, f"has no {key}", f"add `{key}:` (see the bundled rules.yaml)")
    kind = raw["kind"]
    _need(kind in KINDS, rid, f"has kind {kind!r}", f"use one of {', '.join(KINDS)}")
    data = str(raw.get("data", "evaluable"))
    _need(data in ("evaluable", "unavailable"), rid, f"has data {data!r}", "use evaluable or unavailable")
    limit = None
    if raw.get("limit") is not None:
        lim = raw["limit"]
        _need(isinstance(lim, dict) and "amount" in lim and "unit" in lim, rid, f"has limit {lim!r}",
              "write limit: {amount: 15, unit: working_days}")
        _need(lim["unit"] in UNITS, rid, f"has the limit unit {lim['unit']!r}", f"use one of {', '.join(UNITS)}")
        amount = lim["amount"]
        _need(isinstance(amount, int) and not isinstance(amount, bool) and amount > 0, rid,
              f"has the limit amount {amount!r}", "give a whole number above 0")
        limit = Limit(int(amount), str(lim["unit"]))
    clock, check = dict(raw.get("clock") or {}), dict(raw.get("check") or {})
    if kind == "clock":
        _need(limit is not None, rid, "is a clock without a limit", "add limit: {amount: N, unit: ...}")
        _need(bool(clock), rid, "is a clock without `clock:`", "say where it starts and stops")
        table = clock.get("table", "episodes")
        _need(table in TABLES, rid, f"reads table {table!r}", f"use one of {', '.join(TABLES)}")
        for end in ("start", "stop"):
            _need(isinstance(clock.get(end), dict), rid, f"has no clock {end}",
                  f"write {end}: {{at: ...}}, {{stage: ...}} or {{column: ...}}")
    else:
        _need(bool(check), rid, "is a never event without `check:`", "say which rows break the rule")
    if data == "evaluable":
        _check_evaluable(rid, kind, clock, check)
    frm = check.get("from")
    if frm is not None and not isinstance(frm, dt.date):
        try:
            check["from"] = dt.date.fromisoformat(str(frm))
        except ValueError:
            raise RulesError(f"rule {rid!r}: from {frm!r} is not a date", hint="write it as YYYY-MM-DD") from None
    return Rule(id=rid, description=" ".join(str(raw["description"]).split()), source=" ".join(str(raw["source"]).split()),
                kind=kind, clock=clock, check=check, limit=limit, met=str(raw.get("met", "")), data=data,
                why=" ".join(str(raw.get("why", "")).split()), benchmark=dict(raw.get("benchmark") or {}))


def _check_evaluable(rid: str, kind: str, clock: dict[str, Any], check: dict[str, Any]) -> None:
    """A rule marked evaluable must use only what :mod:`cscflow.practices.clocks` reads."""
    hint = "mark it `data: unavailable` with `why:`, or use the forms of the bundled rules.yaml"
    if kind == "never":
        _need(check.get("table", "episodes") == "episodes" and bool(check.get("stage")), rid,
              "checks something other than stays of a stage", hint)
        _need(check.get("per") in (None, "period_of_care"), rid, f"has per {check.get('per')!r}",
              "use per: period_of_care or leave it out")
        lim = check.get("no_review_within")
        if lim is not None:
            _need(isinstance(lim, dict) and lim.get("unit") in ("days", "weeks", "months")
                  and isinstance(lim.get("amount"), int) and lim["amount"] > 0, rid,
                  f"has no_review_within {lim!r}", "write no_review_within: {amount: 6, unit: months}")
        return
    table = clock.get("table", "episodes")
    if table == "proceedings":
        for end in ("start", "stop"):
            _need(clock[end].get("column") in ("application_date", "final_order_date"), rid,
                  f"reads {clock[end]} of proceedings", "use column: application_date / final_order_date")
        return
    _need(table == "episodes" and bool(clock.get("stage")), rid, f"reads table {table!r} without a stage", hint)
    start, stop = clock["start"], clock["stop"]
    _need(clock.get("per") in (None, "period_of_care"), rid, f"has per {clock.get('per')!r}",
          "use per: period_of_care or leave it out")
    if "review" in start or "review" in stop:
        _check_review_clock(rid, start, stop)
        return
    _need(start.get("at") in STAY_ENDS or bool(start.get("stage")), rid, f"starts at {start}", hint)
    _need(stop.get("at") in STAY_ENDS, rid, f"stops at {stop}", hint)


def _check_review_clock(rid: str, start: dict[str, Any], stop: dict[str, Any]) -> None:
    """The review clocks :mod:`cscflow.practices.review_clocks` runs (see ``rules.yaml``)."""
    hint = "use start {at: start} with stop {review: 1}, or start {review: N} / {review: each, from: N} " \
           "with stop {review: next}"
    if start.get("at") == "start":
        _need(stop.get("review") == 1, rid, f"starts at the stay's start and stops at {stop}", hint)
        return
    rev = start.get("review")
    ok = (rev == "each" and isinstance(start.get("from", 1), int) and start.get("from", 1) >= 1) or (
        isinstance(rev, int) and not isinstance(rev, bool) and rev >= 1)
    _need(ok, rid, f"starts at {start}", hint)
    _need(stop.get("review") == "next", rid, f"starts at a review and stops at {stop}", hint)


def rules_path() -> Path:
    """The bundled rules file (copy it to edit)."""
    return Path(str(resources.files("cscflow.practices").joinpath("rules.yaml")))


def load_rules(path: str | Path | None = None) -> dict[str, Rule]:
    """The rules of ``path`` (default: the bundled ``rules.yaml``), by id, in file order."""
    p = Path(path) if path is not None else rules_path()
    if not p.is_file():
        raise RulesError(f"no rules file at {p}", hint="give the path of a copy of the bundled rules.yaml")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise RulesError(f"{p.name} is not valid YAML: {str(err).splitlines()[0]}",
                         hint="check the indentation near the line named") from None
    raw = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(raw, list) or not raw:
        raise RulesError(f"{p.name} has no list under `rules:`", hint="start the file with `rules:` and a list")
    out: dict[str, Rule] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise RulesError(f"{p.name}: rule #{i + 1} is not a mapping", hint="each rule is `- id: ...` with fields")
        rule = _rule(item, str(i + 1))
        if rule.id in out:
            raise RulesError(f"{p.name}: two rules with id {rule.id!r}", hint="give each rule its own id")
        out[rule.id] = rule
    return out


def select(rules: dict[str, Rule] | None, ids: list[str] | tuple[str, ...] | None = None) -> list[Rule]:
    """``ids`` of ``rules`` (default: every rule of the bundled file), refusing unknown ids."""
    rules = load_rules() if rules is None else rules
    if not ids:
        return list(rules.values())
    unknown = [i for i in ids if i not in rules]
    if unknown:
        raise RulesError(f"no rule {unknown[0]!r}", hint=f"use one of {', '.join(rules)}")
    return [rules[i] for i in ids]


__all__ = ["KINDS", "UNITS", "Limit", "Rule", "RulesError", "load_rules", "rules_path", "select"]
