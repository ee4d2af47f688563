"""Forecasts: a semi-Markov model fitted to a workspace's journeys, simulated forward.

``cscflow.forecast.fit(ws)`` returns a fitted :class:`ForecastModel`; :func:`forecast` gives a
measure's monthly median and 80% / 95% intervals; :func:`backtest` compares it with simple
baselines at past origins. (The issue named ``cscflow.model.fit``: ``cscflow.model`` holds the
canonical tables, so the fitted model lives here.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cscflow.forecast.measures import FORECAST_COLUMNS, MEASURES, forecast_table
from cscflow.forecast.model import ForecastModel

if TYPE_CHECKING:
    import pandas as pd

    from cscflow.forecast.simulate import WhatIf
    from cscflow.workspace.protocol import WorkspaceLike

__all__ = ["FORECAST_COLUMNS", "MEASURES", "ForecastModel", "backtest", "fit", "forecast"]


def fit(ws: WorkspaceLike, pmap: str = "england", origin: Any = None, n_boot: int = 20, seed: int = 0) -> ForecastModel:
    """Fit the forecast model on ``ws``'s journeys up to ``origin`` (default: the last month end of the data)."""
    return ForecastModel(pmap=pmap, origin=origin, n_boot=n_boot, seed=seed).fit(ws)


def forecast(model: ForecastModel, measure: str, horizon: int = 12, n_sims: int = 200, seed: int = 0,
             what_if: WhatIf | None = None) -> pd.DataFrame:
    """Columns month, forecast, lower80, upper80, lower95, upper95 of ``measure`` (see :data:`MEASURES`)."""
    return forecast_table(model, measure, horizon, n_sims, seed, what_if)


def backtest(ws: WorkspaceLike, measure: str, **kwargs: Any) -> pd.DataFrame:
    """See :func:`cscflow.forecast.backtesting.backtest`."""
    from cscflow.forecast.backtesting import backtest as _bt

    return _bt(ws, measure, **kwargs)
