"""The flow tables: the one list the journey engine, the CLI, the web API and the front end read.

Each table has its command-line name (hyphens), its API name (underscores) and a label for people. The
functions live in :mod:`cscflow.journeys.flow`; their structure for disclosure control in
:mod:`cscflow.disclosure.registry`. This module imports nothing, so ``cscflow flow --help`` stays quick.

>>> FLOW_TABLES[0]
('stations', 'Stations')
>>> api_name("nfa-by-prior"), cli_name("nfa_by_prior")
('nfa_by_prior', 'nfa-by-prior')
"""

from __future__ import annotations

#: (command-line name, label), in the order the pages offer them
FLOW_TABLES: tuple[tuple[str, str], ...] = (
    ("stations", "Stations"),
    ("conversion", "Conversion"),
    ("durations", "Time spent"),
    ("dfg", "What follows what"),
    ("variants", "Journeys"),
    ("caseload", "Caseload over time"),
    ("rereferrals", "Re-referrals"),
    ("nfa-by-prior", "NFA by prior referrals"),
    ("s47-outcomes", "Section 47 outcomes"),
    ("before-after", "Before / after an event"),
)
#: command-line names
NAMES: tuple[str, ...] = tuple(name for name, _ in FLOW_TABLES)


def api_name(name: str) -> str:
    """The API's name of a flow table (underscores)."""
    return name.replace("-", "_")


def cli_name(name: str) -> str:
    """The command line's name of a flow table (hyphens)."""
    return name.replace("_", "-")


#: API names
API_NAMES: tuple[str, ...] = tuple(api_name(n) for n in NAMES)

__all__ = ["API_NAMES", "FLOW_TABLES", "NAMES", "api_name", "cli_name"]
