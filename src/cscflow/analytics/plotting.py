"""Plotly figures shared by the analyses (step curves with bands, funnels, Sankeys).

Figures are plain plotly ``go.Figure`` objects; the web page draws them from
``fig.to_dict()`` with the bundled plotly.js, whose toolbar downloads PNG and SVG.

>>> import numpy as np
>>> fig = step_figure([("all", np.array([0.0, 5.0]), np.array([1.0, 0.5]), None, None)])
>>> fig.data[0].line.shape
'hv'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _thin(x: np.ndarray, *ys: np.ndarray | None, limit: int = 4000) -> tuple[Any, ...]:
    """Keep at most ``limit`` step points (a curve over millions of times stays drawable)."""
    if len(x) <= limit:
        return (x, *ys)
    idx = np.unique(np.r_[np.linspace(0, len(x) - 1, limit).astype(int), len(x) - 1])
    return (x[idx], *(None if y is None else y[idx] for y in ys))


def step_figure(
    series: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]],
    fig: Any = None,
    colors: list[str] | None = None,
    show_ci: bool = True,
    xaxis_title: str = "days",
    yaxis_title: str = "proportion",
    **layout: Any,
) -> Any:
    """Step curves (label, x, y, lower, upper), each with a shaded confidence band."""
    import plotly.graph_objects as go

    fig = fig or go.Figure()
    colors = colors or PALETTE
    for i, (label, x, y, lo, hi) in enumerate(series):
        x, y, lo, hi = _thin(np.asarray(x, float), np.asarray(y, float), lo, hi)
        c = colors[i % len(colors)]
        if show_ci and lo is not None and hi is not None:
            fig.add_trace(
                go.Scatter(x=x, y=hi, mode="lines", line={"width": 0, "shape": "hv"}, showlegend=False,
                           hoverinfo="skip", legendgroup=label)
            )
            fig.add_trace(
                go.Scatter(x=x, y=lo, mode="lines", line={"width": 0, "shape": "hv"}, fill="tonexty",
                           fillcolor=_rgba(c, 0.18), showlegend=False, hoverinfo="skip", legendgroup=label)
            )
        fig.add_trace(
            go.Scatter(x=x, y=y, mode="lines", name=label, line={"color": c, "shape": "hv"}, legendgroup=label)
        )
    fig.update_layout(
        xaxis_title=xaxis_title, yaxis_title=yaxis_title, template="plotly_white", **layout
    )
    return fig


def curve_figure(table: Any, y: str, group: str | None = None, **layout: Any) -> Any:
    """Step curves drawn from a (disclosed) long table: time, ``y``, lower, upper, one curve per
    ``group`` value (a single curve when ``group`` is None or absent)."""
    import pandas as pd

    t = table
    for c in ("time", y, "lower", "upper"):
        t = t.assign(**{c: pd.to_numeric(t[c], errors="coerce")}) if c in t.columns else t
    parts = list(t.groupby(group, sort=False)) if group and group in t.columns else [("all", t)]
    series = [(str(label), g["time"].to_numpy(), g[y].to_numpy(),
               g["lower"].to_numpy() if "lower" in g else None, g["upper"].to_numpy() if "upper" in g else None)
              for label, g in parts]
    return step_figure(series, **layout)


def drop_points(fig: Any, labels: set[str]) -> Any:
    """``fig`` without the marker points whose text is one of ``labels`` (units withheld by disclosure
    control); lines are kept."""
    for tr in fig.data:
        if getattr(tr, "mode", None) == "markers" and tr.text is not None and labels:
            keep = [i for i, lab in enumerate(tr.text) if lab not in labels]
            tr.update(x=[tr.x[i] for i in keep], y=[tr.y[i] for i in keep], text=[tr.text[i] for i in keep])
    return fig
