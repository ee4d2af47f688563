"""Density where dots overlap (issue 13, deliverable 8): past a number of dots the software path counts each dot into
a small cell instead of stamping a disc (density.js). ``?dense=0`` turns it on at any size, so the small county checks
it: every visible dot counted once, in the cell where the page places it, and every cell with dots on a drawn line or
in a station's waiting ring. The count is made in a Web Worker (density-worker.js): its cells are checked against the
page's own dot positions and against the same count made again on the page's thread; ``?worker=0`` (the count on the
page's thread) is checked the same way."""

from __future__ import annotations

import math

import pytest
from browser_kit import wait_for
from test_map_reading import dates_over_the_span, go_to, open_map, to_segment

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("worker", [True, False], ids=["worker", "main-thread"])
def test_density_counts_every_visible_dot_once_where_it_is(page, server, worker):
    open_map(page, server, "?date=2022-06-01&play=0&dots=splat&dense=0&few=6" + ("" if worker else "&worker=0"))
    wait_for(page, "cscflow.density.on && cscflow.density.current")
    assert page.evaluate("cscflow.density.worker") is worker
    assert "Drawing density" in page.locator("#legend").text_content()
    box = page.locator("#stage").bounding_box()
    checked = dense_rings = 0
    for convention in ["travel", "queue"]:
        if convention == "queue":
            page.select_option("#convention", "queue")
            wait_for(page, "cscflow.ready")
        geometry = page.evaluate("cscflow.geometry()")
        segments = [(p[i], p[i + 1]) for line in geometry["lines"] for p in [line["points"]] for i in range(len(p) - 1)]
        for day in dates_over_the_span(page, 4):
            go_to(page, day)
            page.wait_for_timeout(100)   # a frame drawn at this date
            wait_for(page, "cscflow.density.current")   # the count drawn is this date's (the worker has caught up)
            state = page.evaluate("cscflow.density")
            if worker:   # the worker's cells, word for word (count and colour), as the page's thread counts them
                again = page.evaluate("cscflow.recountDensity()")
                assert again["same"] and again["waitingSame"], (convention, day)
                assert (again["placed"], again["visible"]) == (state["placed"], state["visible"]), (convention, day)
            geometry = page.evaluate("cscflow.geometry()")
            size = state["cellPx"]
            cells = {(math.floor((x - box["x"]) / size), math.floor((y - box["y"]) / size)): n for x, y, n in state["cells"]}
            dots = page.evaluate("cscflow.dotPositions(1000000)")
            inside = [d for d in dots if 0 <= d["x"] - box["x"] < box["width"] and 0 <= d["y"] - box["y"] < box["height"]]
            # one increment per dot: the cells hold exactly the dots drawn, and the legs counted visible are the page's
            assert sum(cells.values()) == state["placed"] == len(inside), (convention, day)
            assert state["visible"] == page.evaluate("cscflow.dotsDrawn"), (convention, day)
            dense_rings += sum(g["waiting"] for g in geometry["rings"] if g["dense"])
            # each dot's cell (or, for a dot on a cell's edge, the next one) holds dots
            for d in inside:
                cx, cy = math.floor((d["x"] - box["x"]) / size), math.floor((d["y"] - box["y"]) / size)
                assert any((cx + i, cy + j) in cells for i in (-1, 0, 1) for j in (-1, 0, 1)), (day, d)
            # every cell with dots lies on a drawn line (4 px and half a cell's diagonal) or in a waiting ring
            rings = geometry["rings"]
            for x, y, n in state["cells"]:
                near_line = min(to_segment(x, y, a, b) for a, b in segments)
                in_ring = any(g["inner"] - size <= math.hypot(x - g["x"], y - g["y"]) <= g["outer"] + size for g in rings)
                assert near_line <= 4 + size or in_ring, (convention, day, x, y, n, round(near_line, 1))
            checked += len(inside)
    assert checked >= 100, checked         # the checks saw dots, moving and waiting
    assert dense_rings > 0                 # and children in rings drawn as density: visible, not placed
    assert page.evaluate("cscflow.error") is None
    assert page.console_errors == [] and page.csp_violations == []   # the worker loaded under the page's CSP


def test_density_is_drawn_only_past_its_threshold(page, server):
    """The small county (a few hundred dots) is drawn as discs by default; with ?dense=0 the density image is what the
    canvas shows (its pixels differ from the discs' at the same date)."""
    open_map(page, server, "?date=2022-06-01&play=0&dots=splat")
    state = page.evaluate("cscflow.density")
    assert state["on"] is False and state["at"] > page.evaluate("cscflow.dotsDrawn")
    assert "Drawing density" not in page.locator("#legend").text_content()
    discs = page.locator("#dots").screenshot()
    open_map(page, server, "?date=2022-06-01&play=0&dots=splat&dense=0")
    wait_for(page, "cscflow.density.on")
    assert page.locator("#dots").screenshot() != discs
