"""Flow analytics on the state timelines: tidy tables, filterable by period and cohort.

Every table is ``<table>(ws, pmap, start=None, end=None, where=None, ...) -> pandas.DataFrame``;
``start``/``end`` are dates (inclusive) and ``where`` the cohort filters of
:mod:`cscflow.journeys.filters`. The work runs as Ibis expressions on the workspace engine; only the
small aggregated result comes back. Map-based tables (stations, conversion, durations, dfg, variants,
caseload) read :func:`cscflow.journeys.timelines`; the sector tables (rereferrals, nfa_by_prior,
s47_outcomes, before_after) read the canonical stages of ``episodes``.

Durations between rows are start-to-start ("time from entering A to entering B"), in days
(fractions kept, so event logs with times of day work).

>>> import tempfile, pandas as pd
>>> from cscflow import Workspace
>>> ws = Workspace(tempfile.mkdtemp(), la="999")
>>> _ = ws.write("episodes", pd.DataFrame({"episode_id": ["1", "2"], "child_id": ["c", "c"],
...     "stage": ["contact", "referral"], "start": pd.to_datetime(["2024-01-02", "2024-01-03"]),
...     "end": pd.to_datetime(["2024-01-02", None]), "outcome": ["referral", None],
...     "need_id": [None, "n1"], "source": "x", "source_row": [1, 2]}))
>>> dfg(ws, "england")[["source", "target", "transitions", "mean_days"]].values.tolist()
[['contact', 'referral', 1, 1.0]]
>>> stations_on(ws, "england", "2024-01-05").values.tolist()
[['referral', 1]]
"""

from __future__ import annotations

from cscflow.journeys.flow.common import DateLike, days_between, in_period, to_timestamp, with_next
from cscflow.journeys.flow.counts import caseload, conversion, stations, stations_on
from cscflow.journeys.flow.csc import before_after, nfa_by_prior, referral_flags, rereferrals, s47_outcomes
from cscflow.journeys.flow.durations import durations, km_quantiles
from cscflow.journeys.flow.graph import dfg, dfg_expr, variants, variants_expr
from cscflow.model.flow_tables import NAMES, api_name

#: command-line table name -> function, for every table of :data:`cscflow.model.flow_tables.FLOW_TABLES`
TABLES = {name: globals()[api_name(name)] for name in NAMES}

__all__ = [
    "TABLES", "DateLike", "before_after", "caseload", "conversion", "days_between", "dfg", "dfg_expr", "durations",
    "in_period", "km_quantiles", "nfa_by_prior", "referral_flags", "rereferrals", "s47_outcomes", "stations",
    "stations_on", "to_timestamp", "variants", "variants_expr", "with_next",
]
