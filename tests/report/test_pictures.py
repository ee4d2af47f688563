"""Pictures without a browser: `cscflow map` and `cscflow stats --out x.png|x.svg` are valid images of the size
asked for, and the numbers written on them are the disclosed ones (checked against a naive count)."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET

import pandas as pd
from click.testing import CliRunner

from cscflow import Workspace
from cscflow.cli import cli

DAY = "2017-06-30"


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def svg_texts(path) -> list[str]:
    root = ET.fromstring(path.read_text(encoding="utf-8"))  # well-formed XML or this raises
    assert root.tag.endswith("svg")
    return ["".join(e.itertext()).strip() for e in root.iter() if e.tag.endswith("text")]


def naive_here(ws, day: str) -> dict[str, int]:
    """Children at each station on ``day`` from the timelines, counted by hand (start <= day < end, or a stay
    that starts and ends on the day)."""
    from cscflow.journeys import timelines
    from cscflow.journeys.maps import load_map

    tl = ws.execute(timelines(ws, load_map("england", ws)))
    d = pd.Timestamp(day)
    s, e = pd.to_datetime(tl["start"]).dt.normalize(), pd.to_datetime(tl["end"]).dt.normalize()
    here = (s <= d) & (e.isna() | (e > d) | (s == d))
    return tl[here].groupby("station")["child_id"].nunique().to_dict()


def test_map_png_and_svg_have_the_size_and_the_disclosed_counts(tiny_ws, tmp_path):
    run = CliRunner().invoke
    png, svg = tmp_path / "m.png", tmp_path / "m.svg"
    r = run(cli, ["map", str(tiny_ws), "--at", DAY, "--size", "900x560", "--out", str(png)])
    assert r.exit_code == 0, r.output
    assert png_size(png) == (900, 560)
    r = run(cli, ["map", str(tiny_ws), "--at", DAY, "--size", "900x560", "--out", str(svg)])
    assert r.exit_code == 0, r.output
    root = ET.fromstring(svg.read_text(encoding="utf-8"))
    assert root.get("width", "").startswith("648") and root.get("height", "").startswith("403")  # 900x560 px in pt
    texts = svg_texts(svg)
    with Workspace(tiny_ws, read_only=True) as ws:
        truth = naive_here(ws, DAY)
    assert truth and any(1 <= v <= 4 for v in truth.values()) and any(v >= 5 for v in truth.values())
    want = sorted("<5" if v < 5 else f"{v:,}" for v in truth.values() if v > 0)
    shown = sorted(t for t in texts if re.fullmatch(r"<5|\d[\d,]*", t))
    assert shown == want
    assert not [t for t in shown if t in {"1", "2", "3", "4"}]
    assert any("counts of 1 to 4 shown as <5" in t for t in texts)


def test_stats_png_and_svg_without_a_browser(tiny_ws, tmp_path):
    run = CliRunner().invoke
    png, svg = tmp_path / "s.png", tmp_path / "s.svg"
    r = run(cli, ["stats", str(tiny_ws), "sankey-front-door", "--size", "800x600", "--out", str(png)])
    assert r.exit_code == 0, r.output
    assert png_size(png) == (800, 600)
    r = run(cli, ["stats", str(tiny_ws), "sankey-front-door", "--out", str(svg)])
    assert r.exit_code == 0, r.output
    texts = svg_texts(svg)
    # naive reference: each node's size from the raw journeys, links under 5 not drawn, hidden ones dropped
    from cscflow.analytics import run as run_analysis

    with Workspace(tiny_ws, read_only=True) as ws:
        raw = run_analysis(ws, "sankey-front-door").table
        shown = run_analysis(ws, "sankey-front-door").export()
    v = pd.to_numeric(shown["children"], errors="coerce")
    drawn = shown[v >= 5].assign(children=v[v >= 5])
    assert (raw["children"].between(1, 4)).any()  # the raw table has small flows to hide
    nodes = {}
    for _, row in drawn.iterrows():
        nodes[row["source"]] = max(nodes.get(row["source"], 0), 0)
    for n in set(drawn["source"]) | set(drawn["target"]):
        out_sum = drawn.loc[drawn["source"] == n, "children"].sum()
        in_sum = drawn.loc[drawn["target"] == n, "children"].sum()
        nodes[n] = max(out_sum, in_sum)
    labels = {m.group(1): int(m.group(2).replace(",", "")) for t in texts
              if (m := re.fullmatch(r"(.+) \(([\d,]+)\)", t))}
    assert labels == {str(k): int(val) for k, val in nodes.items()}
    assert all(val >= 5 for val in labels.values())


def test_stats_curve_png_and_bad_extension(tiny_ws, tmp_path):
    run = CliRunner().invoke
    png = tmp_path / "lc.png"
    r = run(cli, ["stats", str(tiny_ws), "leaving-care", "--out", str(png)])
    assert r.exit_code == 0, r.output
    assert png_size(png) == (1000, 650)
    r = run(cli, ["map", str(tiny_ws), "--out", str(tmp_path / "m.gif")])
    assert r.exit_code == 1 and "use .svg or .png" in r.output
    r = run(cli, ["map", str(tiny_ws), "--size", "big", "--out", str(tmp_path / "m.png")])
    assert r.exit_code == 1 and "WIDTHxHEIGHT" in r.output


def test_curve_picture_draws_the_disclosed_curve(tiny_ws):
    """The matplotlib step line of leaving-care is the disclosed (coarsened) curve, point for point."""
    import numpy as np

    from cscflow.analytics import run as run_analysis
    from cscflow.disclosure import numeric
    from cscflow.report.pictures import figure

    with Workspace(tiny_ws, read_only=True) as ws:
        r = run_analysis(ws, "leaving-care")
    want = numeric(r.export())
    raw = r.table
    assert len(raw) > len(want)  # coarsening dropped steps: the picture must not show them
    fig = figure(r.figure)
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "all"]
    assert len(lines) == 1
    x, y = (np.asarray(v, float) for v in lines[0].get_data())
    np.testing.assert_allclose(x, want["time"].to_numpy(float))
    np.testing.assert_allclose(y, want["survival"].to_numpy(float))
    assert lines[0].get_drawstyle() == "steps-post"


def test_stacked_bars_keep_the_values():
    """Bars of a plotly "relative" bar chart are stacked per category with the figure's values."""
    import plotly.express as px

    from cscflow.report.pictures import figure

    t = pd.DataFrame({"year": [2020, 2020, 2021, 2021], "order": ["care", "sgo", "care", "sgo"],
                      "share": [0.6, 0.4, 0.75, 0.25]})
    fig = figure(px.bar(t, x="year", y="share", color="order"), size=(600, 400))
    rects = [(p.get_x() + p.get_width() / 2, p.get_y(), p.get_height()) for p in fig.axes[0].patches]
    assert sorted((round(b, 3), round(h, 3)) for _, b, h in rects) == [(0.0, 0.6), (0.0, 0.75), (0.6, 0.4),
                                                                      (0.75, 0.25)]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2020", "2021"]


def test_map_still_labels_overlap_nothing():
    """Every station's label is clear of the other labels, the counts and the circles (they collided at
    Pre-proceedings / Care proceedings and Returned home / Permanence when all were written underneath)."""
    import numpy as np
    from matplotlib.transforms import Bbox

    from cscflow.journeys.maps import load_map
    from cscflow.report.mapimage import map_figure

    pmap = load_map("england")
    counts = pd.DataFrame({"station": pmap.station_ids, "children": [3505 if s == "early_help" else 40 if
                                                                   s in pmap.exit_ids else 900
                                                                   for s in pmap.station_ids]})
    fig = map_figure(pmap, counts, DAY, size=(1100, 640))
    ax = fig.axes[0]
    r = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_fontsize() == 8]
    others = [t for t in ax.texts if t.get_fontsize() != 8]  # the counts
    assert len(labels) == len(pmap.stations) and others
    boxes = [t.get_window_extent(r) for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:] + [t.get_window_extent(r) for t in others]:
            assert not a.overlaps(b), (labels[i].get_text(), a, b)
    for coll in ax.collections:  # the station circles: each label outside every circle's square
        xy = ax.transData.transform(coll.get_offsets())
        rad = np.sqrt(coll.get_sizes()) / 2 * fig.dpi / 72
        for (x, y), rr in zip(xy, rad, strict=True):
            circle = Bbox.from_extents(x - rr * 0.7, y - rr * 0.7, x + rr * 0.7, y + rr * 0.7)  # inside the circle
            assert not any(b.overlaps(circle) for b in boxes), circle
