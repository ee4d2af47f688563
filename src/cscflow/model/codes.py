"""DfE code lists as data: each list a YAML file in ``model/codes/`` with its meaning and source.

>>> code_list("legal_status").label("C2")
'Full care order'
>>> code_list("reason_episode_ceased").exit["E11"]
'permanence'
>>> sorted(code_list("reason_episode_ceased").valid_in(2017) - code_list("reason_episode_ceased").valid_in(2024))
['E43', 'E44']

The readers and the analyses take their mappings from here (:func:`rec_outcomes`,
:func:`rec_routes`, :func:`closure_exits`, :func:`sex_codes`), so a code is mapped once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from cscflow.errors import CscflowError


@dataclass(frozen=True)
class CodeList:
    """One DfE code list: ``codes`` maps code to label (every code of every collection year); ``exit``
    (where given) maps code to a cscflow exit, ``route`` (where given) to a route out of care;
    ``years`` gives ``(first, last)`` collection year (None: open) of the codes not valid in every year."""

    name: str
    meaning: str
    source: str
    column: str
    codes: dict[str, str]
    exit: dict[str, str | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    route: dict[str, str | None] = field(default_factory=dict)
    years: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)

    def label(self, code: str) -> str:
        """The label of ``code``; the code itself when the list does not know it."""
        return self.codes.get(str(code), str(code))

    def __contains__(self, code: object) -> bool:
        return str(code) in self.codes

    def valid_in(self, year: int) -> set[str]:
        """The codes valid in collection ``year`` (the DfE schema of that year)."""
        out = set()
        for code in self.codes:
            first, last = self.years.get(code, (None, None))
            if (first is None or year >= first) and (last is None or year <= last):
                out.add(code)
        return out


def names() -> list[str]:
    """Names of the bundled code lists.

    >>> "ethnicity" in names()
    True
    """
    folder = resources.files("cscflow.model") / "codes"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def code_list(name: str) -> CodeList:
    """Load the code list ``name`` (see :func:`names`)."""
    path = resources.files("cscflow.model") / "codes" / f"{name}.yaml"
    if not path.is_file():
        raise CscflowError(f"no code list called {name!r}", hint=f"use one of {', '.join(names())}")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    known = {"name", "meaning", "source", "column", "codes", "exit", "route", "years"}
    return CodeList(
        name=doc["name"],
        meaning=doc["meaning"],
        source=doc["source"],
        column=doc.get("column", ""),
        codes={str(k): str(v) for k, v in doc["codes"].items()},
        exit={str(k): v for k, v in (doc.get("exit") or {}).items()},
        route={str(k): v for k, v in (doc.get("route") or {}).items()},
        years={str(k): (v[0], v[1]) for k, v in (doc.get("years") or {}).items()},
        extra={k: v for k, v in doc.items() if k not in known},
    )


#: the outcome of a ``looked_after`` stay whose episode continues the period of care (REC X1)
CONTINUES = "looked_after"


@cache
def rec_outcomes() -> dict[str, str]:
    """SSDA903 reason episode ceased (REC) -> outcome of the ``looked_after`` stay it ends: the code's
    exit, or ``looked_after`` for X1 (a new episode begins the same day). Every code of every year.

    >>> rec_outcomes()["E44"], rec_outcomes()["X1"], rec_outcomes()["E2"]
    ('permanence', 'looked_after', 'closed')
    """
    return {k: v or CONTINUES for k, v in code_list("reason_episode_ceased").exit.items()}


@cache
def rec_routes() -> dict[str, str]:
    """SSDA903 REC -> route out of care (home, adoption, sgo/cao, 18+, other); X1 is not a leaving.

    >>> rec_routes()["E43"], rec_routes()["E16"], "X1" in rec_routes()
    ('sgo/cao', 'other', False)
    """
    return {k: v for k, v in code_list("reason_episode_ceased").route.items() if v}


@cache
def closure_exits() -> dict[str, str]:
    """CIN ReasonForClosure -> exit of the episode of need, for the reasons that say more than
    ``closed`` (each reader chooses its own default for the rest: ``closed`` for an episode of need,
    ``nfa`` for the assessment that led to it).

    >>> closure_exits()["RC8"], "RC7" in closure_exits()
    ('nfa', False)
    """
    return {k: v for k, v in code_list("reason_for_closure").exit.items() if v and v != "closed"}


@cache
def sex_codes() -> dict[str, str]:
    """How the CIN census writes sex (GenderCurrent to 2024, Sex from 2025) -> M, F or U.

    >>> sex_codes()["2"], sex_codes()["9"], sex_codes()["U"]
    ('F', 'U', 'U')
    """
    spellings = code_list("sex").extra["source_values"]
    return {str(k): v for key in ("CIN GenderCurrent", "CIN Sex (2025+)") for k, v in spellings[key].items()}
