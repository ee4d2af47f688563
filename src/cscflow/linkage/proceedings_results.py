"""The proceedings analyses as :class:`cscflow.analytics.Result` objects (for ``cscflow stats`` and the web)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cscflow.linkage import analyses


def result(ws: Any, name: str, title: str, window: str) -> Any:
    """Analysis ``name`` (``proceedings-stage``, ``-never-looked-after``, ``-duration``, ``-return``)."""
    import plotly.express as px

    from cscflow.analytics import Result, plotting

    if name == "proceedings-return":
        km, curves = analyses.return_to_court(ws)
        summary = km.summary
        if km.logrank_ is not None:
            summary = summary.assign(logrank_p=km.logrank_.p_value)

        def draw_km(t: pd.DataFrame) -> Any:
            return plotting.curve_figure(t, "survival", "group", title=title, yaxis_title="not back in court")

        return Result(name, curves, draw_km, summary, "km-summary", km.method_, window, title)
    if name == "proceedings-stage":
        t = analyses.stage_at(ws)

        def draw(d: pd.DataFrame) -> Any:
            d = d.assign(label=d["stage"] + d["legal_status"].map(lambda s: f" ({s})" if s else ""))
            return px.bar(d, x="moment", y="share", color="label", title=title, template="plotly_white")
    elif name == "proceedings-never-looked-after":
        t = analyses.never_looked_after(ws)

        def draw(d: pd.DataFrame) -> Any:
            return px.bar(d, x="year", y="share", title=title, template="plotly_white")
    else:
        t = analyses.duration(ws)

        def draw(d: pd.DataFrame) -> Any:
            return px.line(d, x="year", y="share_within", color="court", markers=True, title=title,
                           template="plotly_white")
    return Result(name, t, draw, t, None, t.attrs["method"], window, title)
