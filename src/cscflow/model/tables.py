"""The canonical tables of a workspace, as explicit Ibis schemas.

Every reader writes these and every analysis reads them; see docs/data-model.md.
Dates of stays are timestamps (a date is midnight) so that event logs with times
and returns with dates share one column type.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
from ibis.expr.schema import Schema

_S, _D, _TS, _B, _F, _I = dt.string, dt.date, dt.timestamp, dt.boolean, dt.float64, dt.int64

SCHEMAS: dict[str, Schema] = {
    "children": ibis.schema(
        {
            "child_id": _S,  # keyed hash (HMAC-SHA256 with the workspace key) of the LA child id
            "la": _S,  # 3-digit DfE LA code
            "sex": _S,  # 'M', 'F', 'U' (unknown / not stated)
            "ethnicity": _S,  # DfE ethnicity code such as WBRI
            "birth_month": _D,  # first day of the month of birth
            "disability": _B,
            "uasc": _B,
            "attrs": _S,  # JSON object of further characteristics
        }
    ),
    "identifiers": ibis.schema(
        {
            "child_id": _S,
            "source": _S,
            "source_child_id": _S,
            "upn": _S,
            "surname": _S,
            "forenames": _S,
            "birth_date": _D,
        }
    ),
    "episodes": ibis.schema(
        {
            "episode_id": _S,
            "child_id": _S,
            "stage": _S,
            "start": _TS,
            "end": _TS,  # null while the stay is still open
            "outcome": _S,
            "need_id": _S,  # the referral / episode of need the stay belongs to
            "team": _S,
            "worker": _S,  # hashed
            "attrs": _S,  # JSON: source codes (legal status, placement, category of abuse...)
            "source": _S,
            "source_row": _I,
        }
    ),
    "proceedings": ibis.schema(
        {
            "proceedings_id": _S,
            "child_id": _S,  # null until linked
            "application_date": _D,
            "final_order_date": _D,
            "order": _S,
            "court": _S,
            "attrs": _S,
            "source": _S,
            "source_row": _I,
        }
    ),
    "reviews": ibis.schema(
        {
            "review_id": _S,
            "child_id": _S,
            "stage": _S,  # the stage whose plan was reviewed: cp_plan (CIN census), looked_after (SSDA903)
            "date": _D,
            "code": _S,  # SSDA903 REVIEW_CODE (participation); null for CP review conferences
            "attrs": _S,
            "source": _S,
            "source_row": _I,
        }
    ),
    "missing": ibis.schema(
        {
            "missing_id": _S,
            "child_id": _S,
            "kind": _S,  # 'missing' or 'away' (absent without authorisation; SSDA903 MISSING M / A)
            "start": _TS,
            "end": _TS,  # null while the child is still missing (or not known)
            "interview_offered": _B,  # return-home interview offered (null: the return does not say)
            "interview_accepted": _B,
            "attrs": _S,
            "source": _S,
            "source_row": _I,
        }
    ),
    "links": ibis.schema(
        {"proceedings_id": _S, "child_id": _S, "match_probability": _F, "method": _S}
    ),
    "quarantine": ibis.schema(
        {"source": _S, "source_row": _I, "column": _S, "value": _S, "problem": _S, "hint": _S}
    ),
    "events": ibis.schema({"event_id": _S, "date": _D, "label": _S, "kind": _S}),
}

#: Tables that hold names, UPNs or exact dates of birth: never served or exported.
RESTRICTED: frozenset[str] = frozenset({"identifiers"})

TABLES: tuple[str, ...] = tuple(SCHEMAS)


def schema(name: str) -> Schema:
    """The schema of canonical table ``name``.

    >>> list(schema("events").names)
    ['event_id', 'date', 'label', 'kind']
    """
    try:
        return SCHEMAS[name]
    except KeyError:
        from cscflow.errors import CscflowError

        raise CscflowError(
            f"no canonical table called {name!r}", hint=f"use one of {', '.join(TABLES)}"
        ) from None
