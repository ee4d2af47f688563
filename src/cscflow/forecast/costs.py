"""Unit costs: a forecast or a what-if turned into spend, with intervals.

A costs file (YAML, see ``data/unit_costs.example.yaml``) gives a cost per day looked after by placement
type, per assessment, per section 47 enquiry, per month of a child protection plan and per care
proceedings, each with its source. Spend is computed **per simulation** (each simulated month's days and
starts times their unit costs, summed over the items), and only then are its median and 80% / 95%
intervals taken: the quantiles of a sum are not the sum of the quantiles.

Days in care are split across placement types in the mix of care days the workspace holds for the year
before the forecast origin (903 PLACE and PLACE_PROVIDER codes), or the file's ``mix`` when it holds none.
The mix is held fixed: its own uncertainty is not in the intervals.

No published unit costs are bundled. The example file's figures are placeholders (1 a unit): a file with
``status: example`` or any figure marked ``placeholder: true`` is always labelled :data:`EXAMPLE_LABEL`.

>>> c = load_costs("example")
>>> c.example, c.label
(True, 'example costs, not published figures')
>>> placement_type("U4", "PR4"), placement_type("K2", "PR1"), placement_type(None, None)
('foster_agency', 'residential', 'other')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from cscflow.errors import AnalysisError

if TYPE_CHECKING:
    from cscflow.forecast.model import ForecastModel
    from cscflow.forecast.simulate import WhatIf
    from cscflow.workspace.protocol import WorkspaceLike

EXAMPLE = Path(__file__).parent / "data" / "unit_costs.example.yaml"
EXAMPLE_LABEL = "example costs, not published figures"
#: days in a month of a plan (365.25 / 12)
MONTH_DAYS = 365.25 / 12
#: placement types of a day in care -> the SSDA903 PLACE codes in them (foster care split by provider)
PLACEMENT_TYPES: dict[str, tuple[str, ...]] = {
    "foster_in_house": ("U1", "U2", "U3", "U4", "U5", "U6"),
    "foster_agency": ("U1", "U2", "U3", "U4", "U5", "U6"),
    "residential": ("K1", "K2", "R1", "R2", "R5", "S1"),
    "supported_living": ("H5", "P2", "P3"),
    "placed_with_parents": ("P1",),
    "adoption": ("A3", "A4", "A5", "A6"),
    "other": (),
}
#: 903 PLACE_PROVIDER codes of a foster placement bought from an agency (private or voluntary)
AGENCY_PROVIDERS = ("PR4", "PR5")
#: cost item -> (station, what is counted): ``days`` in the station in the month, or ``starts``
ITEMS: dict[str, tuple[str, str]] = {
    "looked_after_day": ("looked_after", "days"),
    "assessment": ("assessment", "starts"),
    "s47": ("s47", "starts"),
    "cp_plan_month": ("cp_plan", "days"),
    "proceedings": ("proceedings", "starts"),
}
SPEND_COLUMNS = ["item", "month", "activity", "forecast", "lower80", "upper80", "lower95", "upper95", "costs"]


@dataclass(frozen=True)
class UnitCosts:
    """Unit costs read from a costs file: ``values`` per item (``looked_after_day`` excluded), ``placement``
    the cost of a day in care per placement type, ``mix`` the file's placement mix (or None)."""

    values: dict[str, float]
    placement: dict[str, float]
    mix: dict[str, float] | None
    example: bool
    status: str
    currency: str
    price_year: str | None
    path: str
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """What the figures are, shown beside every costed output."""
        if self.example:
            return EXAMPLE_LABEL
        year = f", {self.price_year} prices" if self.price_year else ""
        return f"{self.status} unit costs ({self.currency}{year}) from {Path(self.path).name}"


def _figure(item: str, raw: Any) -> tuple[float, bool]:
    """(value, placeholder) of one entry: a number or ``{value, placeholder, source, unit}``."""
    if isinstance(raw, dict):
        value, placeholder = raw.get("value"), bool(raw.get("placeholder", False))
    else:
        value, placeholder = raw, False
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value) or value < 0:
        raise AnalysisError(f"the unit cost {item!r} is {value!r}, not a cost",
                            hint="give each unit cost a number of 0 or more (value: 123.4)")
    return float(value), placeholder


def load_costs(path: str | Path) -> UnitCosts:
    """Read a costs file (``"example"``: the bundled example, whose figures are placeholders)."""
    p = EXAMPLE if str(path) == "example" else Path(path)
    if not p.is_file():
        raise AnalysisError(f"no costs file at {path}",
                            hint=f"copy the example ({EXAMPLE}) and fill in your unit costs, or pass --costs example")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise AnalysisError(f"the costs file {p.name} is not valid YAML: {str(err).splitlines()[0]}",
                            hint="compare it with the example: cscflow/forecast/data/unit_costs.example.yaml") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("unit_costs"), dict):
        raise AnalysisError(f"the costs file {p.name} has no 'unit_costs' section",
                            hint="compare it with the example: cscflow/forecast/data/unit_costs.example.yaml")
    uc: dict[str, Any] = doc["unit_costs"]
    unknown = sorted(set(uc) - set(ITEMS))
    if unknown:
        raise AnalysisError(f"unknown unit cost(s) {', '.join(unknown)} in {p.name}", hint=f"use {', '.join(ITEMS)}")
    placeholder = False
    values: dict[str, float] = {}
    for item, raw in uc.items():
        if item == "looked_after_day":
            continue
        values[item], ph = _figure(item, raw)
        placeholder |= ph
    placement: dict[str, float] = {}
    care = uc.get("looked_after_day")
    if care is not None:
        if isinstance(care, dict) and "value" not in care:
            bad = sorted(set(care) - set(PLACEMENT_TYPES))
            if bad:
                raise AnalysisError(f"unknown placement type(s) {', '.join(bad)} in {p.name}",
                                    hint=f"use {', '.join(PLACEMENT_TYPES)}")
            for kind, raw in care.items():
                placement[kind], ph = _figure(f"looked_after_day.{kind}", raw)
                placeholder |= ph
        else:  # one cost for every day in care
            one, ph = _figure("looked_after_day", care)
            placement = dict.fromkeys(PLACEMENT_TYPES, one)
            placeholder |= ph
    mix = doc.get("mix")
    if mix is not None:
        if not isinstance(mix, dict) or not all(isinstance(v, int | float) and v >= 0 for v in mix.values()):
            raise AnalysisError(f"the mix in {p.name} is not a share per placement type",
                                hint=f"give shares of 0 to 1 for {', '.join(PLACEMENT_TYPES)} that add up to 1")
        total = float(sum(mix.values()))
        if abs(total - 1.0) > 0.01:
            raise AnalysisError(f"the placement mix in {p.name} adds up to {total:.3f}, not 1", hint="rescale it")
        mix = {str(k): float(v) / total for k, v in mix.items()}
    status = str(doc.get("status", "example")).strip().lower()
    return UnitCosts(values=values, placement=placement, mix=mix, example=status == "example" or placeholder,
                     status=status, currency=str(doc.get("currency", "GBP")),
                     price_year=None if doc.get("price_year") is None else str(doc["price_year"]), path=str(p),
                     sources={str(k): str(v) for k, v in (doc.get("sources") or {}).items()})


def placement_type(place: str | None, provider: str | None) -> str:
    """The placement type (:data:`PLACEMENT_TYPES`) of a 903 PLACE code and PLACE_PROVIDER code."""
    code = (place or "").strip().upper()
    if code in PLACEMENT_TYPES["foster_in_house"]:
        return "foster_agency" if (provider or "").strip().upper() in AGENCY_PROVIDERS else "foster_in_house"
    for kind, codes in PLACEMENT_TYPES.items():
        if code in codes:
            return kind
    return "other"


def placement_mix(ws: WorkspaceLike, origin: Any, days: int = 365) -> dict[str, float] | None:
    """The share of care days by placement type in the ``days`` before ``origin`` (None: no placement codes)."""
    origin = pd.Timestamp(origin)
    first = origin - pd.Timedelta(days=days)
    e = ws.table("episodes")
    rows = ws.execute(e.filter((e.stage == "looked_after") & (e.start <= origin) & (e.end.isnull() | (e.end > first)))
                      .select("start", "end", "attrs"))
    if rows.empty:
        return None
    start = pd.to_datetime(rows["start"]).clip(lower=first)
    end = pd.to_datetime(rows["end"]).fillna(origin).clip(upper=origin)
    d = ((end - start) / pd.Timedelta(days=1)).clip(lower=0).to_numpy()
    attrs = [a if isinstance(a, dict) else json.loads(a) if isinstance(a, str) and a else {} for a in rows["attrs"]]
    if not any(a.get("placement") for a in attrs):
        return None
    kinds = [placement_type(a.get("placement"), a.get("placement_provider")) for a in attrs]
    by = pd.Series(d).groupby(pd.Series(kinds)).sum()
    if by.sum() <= 0:
        return None
    return {str(k): float(v / by.sum()) for k, v in by.items()}


def care_day_cost(costs: UnitCosts, mix: dict[str, float]) -> float:
    """The cost of a day in care: placement types' costs weighted by ``mix``."""
    missing = sorted(k for k, v in mix.items() if v > 0 and k not in costs.placement)
    if missing:
        raise AnalysisError(f"the costs file gives no cost of a day in care for {', '.join(missing)}",
                            hint="add them under unit_costs.looked_after_day")
    return float(sum(v * costs.placement[k] for k, v in mix.items()))


def items_of(costs: UnitCosts, stations: list[str]) -> list[str]:
    """The cost items of ``costs`` whose station the model has (in :data:`ITEMS` order)."""
    have = set(costs.values) | ({"looked_after_day"} if costs.placement else set())
    return [i for i in ITEMS if i in have and ITEMS[i][0] in stations]


def spend_by_simulation(sims: dict[str, np.ndarray], costs: UnitCosts, items: list[str],
                        mix: dict[str, float] | None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(spend, activity) per item, each (n_sims, horizon): ``sims`` as :func:`cscflow.forecast.simulate.simulate`
    gives them (``station:days`` and ``station:starts``). Activity is days, plan months or starts."""
    spend: dict[str, np.ndarray] = {}
    activity: dict[str, np.ndarray] = {}
    for item in items:
        station, what = ITEMS[item]
        qty = sims[f"{station}:{what}"] / (MONTH_DAYS if item == "cp_plan_month" else 1.0)
        if item == "looked_after_day":
            if mix is None and len(set(costs.placement.values())) == 1:  # one cost for every placement type
                mix = {next(iter(costs.placement)): 1.0}
            if mix is None:
                raise AnalysisError("the workspace holds no placement codes and the costs file gives no mix",
                                    hint="add `mix:` (share of care days by placement type) to the costs file")
            unit = care_day_cost(costs, mix)
        else:
            unit = costs.values[item]
        activity[item], spend[item] = qty, qty * unit
    return spend, activity


def spend_table(spend: dict[str, np.ndarray], activity: dict[str, np.ndarray], months: pd.PeriodIndex,
                label: str) -> pd.DataFrame:
    """:data:`SPEND_COLUMNS`: per item and for ``all`` items, each month and the horizon's ``total``; the
    median and intervals of each simulation's spend (activity: the median of each simulation's units)."""
    rows: list[dict[str, Any]] = []
    names = list(spend)
    blocks: list[tuple[str, np.ndarray, np.ndarray | None]] = [(n, spend[n], activity[n]) for n in names]
    if names:
        blocks.append(("all", np.sum([spend[n] for n in names], axis=0), None))
    for name, s, a in blocks:
        cols = [(str(m), s[:, j], None if a is None else a[:, j]) for j, m in enumerate(months)]
        cols.append(("total", s.sum(1), None if a is None else a.sum(1)))
        for month, v, q in cols:
            pct = np.percentile(v, [50, 10, 90, 2.5, 97.5])
            rows.append({"item": name, "month": month,
                         "activity": np.nan if q is None else float(np.median(q)), "forecast": pct[0],
                         "lower80": pct[1], "upper80": pct[2], "lower95": pct[3], "upper95": pct[4], "costs": label})
    return pd.DataFrame(rows, columns=SPEND_COLUMNS)


def spend_forecast(model: ForecastModel, costs: UnitCosts, horizon: int = 12, n_sims: int = 200, seed: int = 0,
                   what_if: WhatIf | None = None, mix: dict[str, float] | None = None) -> pd.DataFrame:
    """The spend of ``model``'s forecast (or what-if) over ``horizon`` months: :func:`spend_table`. ``mix``:
    the placement mix (default: the costs file's)."""
    from cscflow.forecast.simulate import simulate

    items = items_of(costs, model.stations_)
    if not items:
        raise AnalysisError("none of the costs file's items is on the model's map",
                            hint=f"cost at least one of {', '.join(ITEMS)}")
    stations = sorted({ITEMS[i][0] for i in items})
    sims = simulate(model, stations, horizon, n_sims=n_sims, seed=seed, what_if=what_if)
    spend, activity = spend_by_simulation(sims, costs, items, mix if mix is not None else costs.mix)
    months = pd.period_range(model.origin_.to_period("M") + 1, periods=horizon, freq="M")
    return spend_table(spend, activity, months, costs.label)


__all__ = ["EXAMPLE", "EXAMPLE_LABEL", "ITEMS", "PLACEMENT_TYPES", "SPEND_COLUMNS", "UnitCosts", "care_day_cost",
           "load_costs", "placement_mix", "placement_type", "spend_by_simulation", "spend_forecast", "spend_table"]
