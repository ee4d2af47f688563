"""Writers of the simulated county, one module per format LAs hold.

Each module ``cscflow.synth.writers.<name>`` has
``write(county: County, out_dir: Path, rng: numpy.random.Generator) -> list[Path]``.
Modules are imported only when their format is asked for.

>>> sorted(FORMATS)
['903', '903-xml', 'annex-a', 'cin', 'events', 'legal', 'people']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from cscflow.errors import CscflowError

#: CLI format name -> writer module under cscflow.synth.writers
FORMATS: dict[str, str] = {
    "annex-a": "annex_a",
    "cin": "cin",
    "903": "ssda903",
    "903-xml": "ssda903_xml",
    "legal": "legal",
    "events": "events",
    "people": "people",
}


class FormatError(CscflowError):
    """A format name is unknown."""


def writer(fmt: str) -> Callable[..., list[Path]]:
    """The ``write`` function of format ``fmt`` (a key of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r}", hint=f"use one or more of {', '.join(FORMATS)}")
    write: Callable[..., list[Path]] = importlib.import_module(f"cscflow.synth.writers.{FORMATS[fmt]}").write
    return write


#: Formats written only when asked for (``--formats``; ``cscflow demo`` asks): the person list is not a file of
#: stays, so a folder of the default formats loads with ``cscflow load`` as it is.
ON_REQUEST = ("people",)


def defaults() -> list[str]:
    """The formats written when none are named: every one but :data:`ON_REQUEST`.

    >>> "people" in defaults(), "legal" in defaults()
    (False, True)
    """
    return [f for f in FORMATS if f not in ON_REQUEST]


def available() -> list[str]:
    """Every format, in :data:`FORMATS` order (each writer ships with cscflow).

    >>> available()[:2]
    ['annex-a', 'cin']
    """
    return list(FORMATS)
