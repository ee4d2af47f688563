"""The video's geometry and dots (cscflow.journeys.geometry, cscflow.journeys.dots) against the web map's: the
stations, the drawn lines and every dot where the browser puts them, within a pixel or two (issue 17)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from browser_kit import wait_for

pytestmark = pytest.mark.browser


def python_scene(server, width: float, height: float, few: int = 100):
    from cscflow.journeys import tracks
    from cscflow.journeys.dots import drawable
    from cscflow.journeys.geometry import MapGeometry, map_routes

    st = server.app.state.cscflow
    with st.lock:
        pmap = st.pmap
        travel = tracks(st.ws, pmap, "travel", None)
    lines = [{"id": ln["id"], "colour": ln["colour"], "stations": ln["stations"]} for ln in pmap.lines]
    geo = MapGeometry([dict(s) for s in pmap.stations], lines, map_routes(pmap, travel), width, height, few)
    return geo, drawable(travel, geo), pd.Timestamp(travel.epoch)


@pytest.mark.parametrize(("where", "few"), [(0.35, 100), (0.8, 100), (0.6, 3)])
def test_python_dots_are_where_the_browser_draws_them(page, server, where, few):
    """At three dates (a share of the data's span): the same dots, each within 2 px (few=3: rings of more than 3
    waiting are drawn as density, their dots not drawn, in both)."""
    import datetime as dt

    page.goto(f"{server.url}/?play=0&renderer=canvas&few={few}")
    wait_for(page, "window.cscflow && window.cscflow.ready")
    first, last = (dt.date.fromisoformat(d) for d in page.evaluate("cscflow.span"))
    day = (first + (last - first) * where).isoformat()
    page.evaluate(f"cscflow.setDate('{day}')")
    wait_for(page, f"cscflow.date === '{day}'")
    box = page.evaluate("(() => { const b = document.getElementById('stage').getBoundingClientRect();"
                        " return [b.left, b.top, b.width, b.height]; })()")
    web = page.evaluate("cscflow.geometry()")
    web_dots = page.evaluate("cscflow.dotPositions(1000000)")
    geo, dots, epoch = python_scene(server, box[2], box[3], few)
    mine = geo.payload()
    # stations and lines within a pixel
    for a, b in zip(web["stations"], mine["stations"], strict=True):
        assert a["id"] == b["id"] and math.hypot(a["x"] - box[0] - b["x"], a["y"] - box[1] - b["y"]) < 1
    web_lines = sorted((ln["id"], *np.round(np.ravel(ln["points"]) - np.tile(box[:2], 2), 1)) for ln in web["lines"])
    my_lines = sorted((ln["id"], *np.round(np.ravel(ln["points"]), 1)) for ln in mine["lines"])
    assert len(web_lines) == len(my_lines)
    for a, b in zip(web_lines, my_lines, strict=True):
        assert a[0] == b[0] and max(abs(p - q) for p, q in zip(a[1:], b[1:], strict=True)) < 1
    # every dot: the same children, each within 2 px of where Python puts it
    frame = dots.at(float((pd.Timestamp(day) - epoch).days))
    assert len(web_dots) == frame.x.size and len(web_dots) > 20
    by_child: dict[int, list[tuple[float, float]]] = {}
    for c, x, y in zip(frame.child.tolist(), frame.x.tolist(), frame.y.tolist(), strict=True):
        by_child.setdefault(c, []).append((x, y))
    far = []
    for d in web_dots:
        near = min((math.hypot(d["x"] - box[0] - x, d["y"] - box[1] - y) for x, y in by_child.get(d["child"], [])),
                   default=math.inf)
        if near > 2:
            far.append((d, near))
    assert far == [], far[:5]
    assert sum(d["moving"] for d in web_dots) == int(frame.moving.sum())
    rings = {g["id"]: g for g in web["rings"]}
    for i, s in enumerate(mine["stations"]):
        assert rings[s["id"]]["dense"] == bool(frame.ring_dense[i])
        assert abs(rings[s["id"]]["outer"] - frame.ring_outer[i]) < 0.01
    if few == 3:
        assert frame.ring_dense.any()
