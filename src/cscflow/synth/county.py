"""The simulated county: the contract between the simulation and the writers.

:func:`cscflow.synth.simulate` returns a :class:`County`; every writer in
:mod:`cscflow.synth.writers` takes one and writes a file format LAs hold. The
frames are the *truth*: what really happened to each simulated child, before
any return format loses or garbles it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: children: one row per child.
CHILD_COLUMNS = {
    "child_id": "LA child id as the LA's system holds it, e.g. 'C0001234' (str)",
    "la": "3-digit DfE LA code (str)",
    "sex": "'M' or 'F'",
    "ethnicity": "DfE ethnicity code, e.g. 'WBRI'",
    "birth_date": "exact date of birth (datetime64, midnight)",
    "disability": "bool",
    "uasc": "bool: unaccompanied asylum-seeking child",
    "upn": "13-character unique pupil number, or None (e.g. under school age, UASC)",
    "surname": "str",
    "forenames": "str",
    "expected_birth_date": "None unless the child was unborn at referral (datetime64)",
}

#: journeys: one row per true stay (see docs/data-model.md for what a stay means per stage).
JOURNEY_COLUMNS = {
    "child_id": "LA child id",
    "need_id": "episode of need id, e.g. 'N0000042'; None for contacts and early help not leading to a referral",
    "stage": "a stage id of cscflow.model.stages.STAGES",
    "start": "datetime64 (contacts may carry a time of day)",
    "end": "datetime64 or NaT when still open at the end of the period",
    "outcome": "what the stay ended in: next stage or an exit id (None when open)",
    "team": "team name, e.g. 'Front Door', 'North District'",
    "worker": "worker id, e.g. 'W0042'",
    "attrs": "JSON object text with stage-specific DfE codes, see docs/data-model.md "
    "(referral_source, primary_need, category_of_abuse, legal_status, placement, placement_provider, "
    "rne, rec, reason_place_change, activity, accommodation, factors, ...)",
}

#: proceedings: one row per child per set of care proceedings.
PROCEEDINGS_COLUMNS = {
    "proceedings_id": "str, e.g. 'P000123'",
    "child_id": "LA child id",
    "case_number": "court case number shared by siblings in the same proceedings, e.g. 'ZW24C50123'",
    "court": "family court name",
    "application_date": "datetime64",
    "interim_order_date": "datetime64 or NaT",
    "interim_order": "e.g. 'ICO' (interim care order), 'ISO', or None",
    "final_order_date": "datetime64 or NaT when not concluded by the end of the period",
    "order": "care_order | supervision_order | sgo | placement_order | cao | no_order | None (open)",
}

#: events: dated markers (an Ofsted inspection, a restructure) that changed a rate for a while.
EVENT_COLUMNS = {"event_id": "str", "date": "datetime64", "label": "str", "kind": "e.g. 'inspection'"}


@dataclass
class County:
    """One simulated LA over a period: the truth every writer writes from.

    >>> c = County(la="999", start=dt.date(2014, 4, 1), end=dt.date(2018, 3, 31))
    >>> c.census_years()
    [2015, 2016, 2017, 2018]
    """

    la: str
    start: dt.date
    end: dt.date
    children: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CHILD_COLUMNS)))
    journeys: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(JOURNEY_COLUMNS)))
    proceedings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PROCEEDINGS_COLUMNS)))
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(EVENT_COLUMNS)))
    parameters: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    def census_years(self) -> list[int]:
        """Collection years ending 31 March that the period touches (year = the March it ends in)."""
        first = self.start.year + (1 if self.start.month >= 4 else 0)
        last = self.end.year + (1 if self.end.month >= 4 else 0)
        return list(range(first, last + 1))
