"""The JSON and binary API of the web app: one router per module (create_app includes them all).

Shared here: the cohort filter taken from query parameters (the engine's ``where``),
date parsing and turning small DataFrames into JSON. Bad parameters raise
:class:`fastapi.HTTPException` 422 with a one-line message.

>>> parse_date("2020-01-31", "date").isoformat()
'2020-01-31'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from fastapi import HTTPException, Request, Response

if TYPE_CHECKING:
    from cscflow.web.app import WebState

#: Cohort filters the engine accepts (contracts.md), with how a value is read.
FILTERS: dict[str, str] = {
    "sex": "str",
    "ethnicity": "str",
    "age_band": "str",
    "disability": "bool",
    "uasc": "bool",
    "team": "str",
    "referral_source": "str",
    "repeat": "repeat",
    "la": "str",
}
_VALUE = re.compile(r"^[\w .,&()'/+-]{1,80}$")
_TRUE, _FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n"}


def state(request: Request) -> WebState:
    """The app's :class:`cscflow.web.app.WebState`."""
    st: WebState = request.app.state.cscflow
    return st


def is_local(request: Request) -> bool:
    """True when the client is on this machine (a loopback address), whatever the Host header or token say."""
    import ipaddress

    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_only(request: Request, why: str) -> None:
    """403 unless the client is on this machine (:func:`is_local`): another host never, even with a token. ``why``
    says what the request shows or stores, so the message tells the user where to go instead."""
    if not is_local(request):
        raise HTTPException(status_code=403, detail=f"{why}: open it on the machine that holds the workspace "
                                                    "(http://127.0.0.1)")


def bad(message: str) -> HTTPException:
    """A 422 with ``message``."""
    return HTTPException(status_code=422, detail=message)


def cohort(request: Request, allowed: set[str] | frozenset[str] = frozenset(), prefix: str = "") -> dict[str, Any] | None:
    """The cohort filter in the query string (``?sex=F&team=North&team=South``), or None.

    Parameters named in ``allowed`` are the endpoint's own; any other unknown
    parameter is refused. With ``prefix`` (e.g. ``"b_"``) the filter of a second
    cohort is read from ``b_sex=...`` instead.
    """
    where: dict[str, Any] = {}
    known = set(FILTERS) | {f"b_{k}" for k in FILTERS} | set(allowed) | {"token"}
    for key in request.query_params:
        if key not in known:
            raise bad(f"unknown parameter {key!r}; cohort filters are {', '.join(FILTERS)}")
    for name, kind in FILTERS.items():
        raw = [v for item in request.query_params.getlist(prefix + name) for v in item.split(",") if v != ""]
        if not raw:
            continue
        values = [_read(prefix + name, kind, v) for v in raw]
        where[name] = values[0] if len(values) == 1 else sorted(set(values), key=str)
    return where or None


def _read(name: str, kind: str, value: str) -> Any:
    value = value.strip()
    if kind == "bool":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise bad(f"{name}={value!r} is not true or false")
    if kind == "repeat":
        if not re.fullmatch(r"[1-9]\d{0,2}\+?", value):
            raise bad(f"{name}={value[:40]!r} is not an episode number such as 1, 2 or 3+")
        return value
    if not _VALUE.match(value):
        raise bad(f"{name}={value[:40]!r} has characters or a length a cohort value cannot have")
    return value


def where_key(where: dict[str, Any] | None) -> tuple[Any, ...]:
    """A hashable form of a cohort filter (for caches)."""
    if not where:
        return ()
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in where.items()))


def parse_date(value: str | None, name: str) -> dt.date | None:
    """An ISO date from a query parameter (None stays None); 422 when it is not one."""
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise bad(f"{name}={value[:40]!r} is not a date (use YYYY-MM-DD)") from None


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of ``value`` (NaN/NaT -> None, timestamps -> ISO dates, numpy -> Python)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-safe dicts."""
    return [jsonable(row) for row in frame.to_dict(orient="records")]


def json_body(st: WebState, key: tuple[Any, ...], build: Callable[[], Any]) -> Response:
    """The JSON answer ``build()`` gives, encoded once per ``key`` and remembered in the app's cache (the bytes
    FastAPI would send for it: compact, UTF-8, no NaN), so a repeated request costs no work at all."""

    def encode() -> bytes:
        return json.dumps(jsonable(build()), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

    body: bytes = st.cached(("json", *key), encode)
    return Response(body, media_type="application/json")
