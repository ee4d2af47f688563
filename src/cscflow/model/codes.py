"""DfE code lists as data: each list a YAML file in ``model/codes/`` with its meaning and source.

>>> code_list("legal_status").label("C2")
'Full care order'
>>> code_list("reason_episode_ceased").exit["E11"]
'permanence'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml

from cscflow.errors import CscflowError


@dataclass(frozen=True)
class CodeList:
    """One DfE code list: ``codes`` maps code to label; ``exit`` (where given) maps code to a cscflow exit."""

    name: str
    meaning: str
    source: str
    column: str
    codes: dict[str, str]
    exit: dict[str, str | None] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def label(self, code: str) -> str:
        """The label of ``code``; the code itself when the list does not know it."""
        return self.codes.get(str(code), str(code))

    def __contains__(self, code: object) -> bool:
        return str(code) in self.codes


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
    known = {"name", "meaning", "source", "column", "codes", "exit"}
    return CodeList(
        name=doc["name"],
        meaning=doc["meaning"],
        source=doc["source"],
        column=doc.get("column", ""),
        codes={str(k): str(v) for k, v in doc["codes"].items()},
        exit={str(k): v for k, v in (doc.get("exit") or {}).items()},
        extra={k: v for k, v in doc.items() if k not in known},
    )
