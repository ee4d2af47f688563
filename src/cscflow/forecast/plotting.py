"""Fan charts of forecasts: the median and 80% / 95% bands of each scenario, after the observed months.

>>> import pandas as pd
>>> t = pd.DataFrame({"month": ["2024-04", "2024-05"], "forecast": [10.0, 11.0], "lower80": [8.0, 9.0],
...                   "upper80": [12.0, 13.0], "lower95": [7.0, 8.0], "upper95": [13.0, 14.0]})
>>> [tr.name for tr in fan_chart(t).data if tr.showlegend is not False]
['forecast (median)', '95% interval', '80% interval']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cscflow.analytics.plotting import PALETTE, _rgba

#: scenario colours: the baseline blue, a what-if orange (readable on white, told apart by dash too)
COLOURS = {"baseline": PALETTE[0], "what-if": "#c2410c"}


def _x(months: pd.Series) -> list[str]:
    """Month labels (YYYY-MM) as the first day of the month, for a date axis."""
    return [f"{m}-01" for m in months.astype(str)]


def fan_chart(table: pd.DataFrame, history: pd.DataFrame | None = None, title: str = "", y_title: str = "",
              history_name: str = "observed") -> Any:
    """A plotly figure of ``table`` (columns month, forecast, lower80, upper80, lower95, upper95 and optionally
    ``scenario``: ``baseline`` or a label starting ``what-if``), after ``history`` (month, actual) if given.
    Missing values (hidden by disclosure control) leave gaps."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if history is not None and len(history):
        fig.add_trace(go.Scatter(x=_x(history["month"]), y=pd.to_numeric(history["actual"], errors="coerce"),
                                 mode="lines+markers", name=history_name, line={"color": "#333", "width": 1.5},
                                 marker={"size": 4}))
    if "scenario" in table.columns:
        groups = [(str(s), table[table["scenario"] == s]) for s in table["scenario"].drop_duplicates()]
    else:
        groups = [("baseline", table)]
    for name, t in groups:
        kind = "baseline" if name == "baseline" else "what-if"
        c = COLOURS[kind]
        x = _x(t["month"])
        prefix = "" if len(groups) == 1 else f"{name}: "
        for lo, hi, alpha, label in (("lower95", "upper95", 0.12, "95% interval"),
                                     ("lower80", "upper80", 0.25, "80% interval")):
            up = np.asarray(pd.to_numeric(t[hi], errors="coerce"), dtype=float)
            down = np.asarray(pd.to_numeric(t[lo], errors="coerce"), dtype=float)
            fig.add_trace(go.Scatter(x=x, y=up, mode="lines", line={"width": 0}, hoverinfo="skip",
                                     showlegend=False, legendgroup=f"{name}{label}"))
            fig.add_trace(go.Scatter(x=x, y=down, mode="lines", line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(c, alpha), name=prefix + label, legendgroup=f"{name}{label}",
                                     hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=pd.to_numeric(t["forecast"], errors="coerce"), mode="lines+markers",
                                 name=prefix + "forecast (median)",
                                 line={"color": c, "width": 2, "dash": "solid" if kind == "baseline" else "dash"},
                                 marker={"size": 5}))
    # the median first in the legend, then the bands
    fig.data = tuple(sorted(fig.data, key=lambda tr: 0 if "median" in str(tr.name) or tr.name == history_name
                            else 1))
    fig.update_layout(title=title, yaxis_title=y_title, xaxis_title="month", template="plotly_white",
                      hovermode="x unified", margin={"t": 50})
    fig.update_yaxes(rangemode="tozero")
    return fig


__all__ = ["fan_chart"]
