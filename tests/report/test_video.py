"""``cscflow video``: an MP4 that decodes (H.264, yuv420p) with the frames and size asked for, its dots where the
Python geometry puts them (which tests/browser/test_video_geometry.py holds to the web map's), station counts
through disclosure control, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from cscflow.cli import cli

ARGS = ["--from", "2017-01-01", "--to", "2017-03-02", "--fps", "15", "--days-per-second", "30", "--size", "640x360"]


@pytest.fixture(scope="module")
def video(tiny_ws, tmp_path_factory):
    out = tmp_path_factory.mktemp("video") / "map.mp4"
    r = CliRunner().invoke(cli, ["video", str(tiny_ws), *ARGS, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "30 frames" in r.output
    return out


def decode(path):
    import av

    with av.open(str(path)) as f:
        s = f.streams.video[0]
        info = (s.codec_context.name, s.codec_context.pix_fmt, s.width, s.height, float(s.average_rate))
        frames = [fr.to_ndarray(format="rgb24") for fr in f.decode(video=0)]
    return info, frames


def test_mp4_decodes_with_the_frames_and_size_asked_for(video):
    info, frames = decode(video)
    assert info == ("h264", "yuv420p", 640, 360, 15.0)
    assert len(frames) == 30                          # 60 days at 30 days a second, 15 frames a second
    assert frames[0].shape == (360, 640, 3)
    assert not np.array_equal(frames[0], frames[-1])  # the dots moved


def test_dots_are_where_the_geometry_says(video, tiny_ws):
    """Frame 20 (day 40 of the period): around each dot alone in its neighbourhood (nothing else drawn within 8 px)
    the picture differs from the bare map; far from every dot it is the bare map (within the codec's error)."""
    from cscflow.report.video import Scene, VideoOptions, few_waiting_hidden
    from cscflow.workspace import Workspace

    _, frames = decode(video)
    with Workspace(tiny_ws, read_only=True) as ws:
        scene = Scene(ws, VideoOptions("2017-01-01", "2017-03-02", 15, 30.0, (640, 360)))
    t = scene.times()[20]
    f = few_waiting_hidden(scene.dots.at(float(t)), scene.geometry)
    picture = frames[20].astype(int)
    bare = scene.painter.frame(scene.dots.at(-1e9), [""] * len(scene.station_ids), "").astype(int)
    drawn = scene.frame(float(t)).astype(int)
    xy = np.column_stack([f.x, f.y])
    lone = [i for i in range(len(xy)) if np.sort(np.hypot(*(xy - xy[i]).T))[1:2].min(initial=99) > 8
            and 4 < xy[i, 0] < 636 and 4 < xy[i, 1] < 316]
    checked = 0
    for i in lone:
        x, y = int(xy[i, 0]), int(xy[i, 1])
        if np.abs(drawn[y - 1 : y + 2, x - 1 : x + 2] - bare[y - 1 : y + 2, x - 1 : x + 2]).mean() < 20:
            continue                                   # a pale dot on a pale line: nothing to see
        checked += 1
        assert np.abs(picture[y - 1 : y + 2, x - 1 : x + 2] - drawn[y - 1 : y + 2, x - 1 : x + 2]).mean() < 25
        assert np.abs(picture[y - 1 : y + 2, x - 1 : x + 2] - bare[y - 1 : y + 2, x - 1 : x + 2]).mean() > 20
    assert checked >= 5, (len(f.x), len(lone))
    empty = np.ones(picture.shape[:2], bool)          # far from every dot, station and text: the bare map
    for x, y in xy.astype(int):
        empty[max(y - 8, 0) : y + 9, max(x - 8, 0) : x + 9] = False
    empty &= np.abs(drawn - bare).max(axis=2) == 0
    assert np.abs(picture - bare)[empty].mean() < 3


def test_station_counts_are_disclosed(tiny_ws):
    from cscflow.report.video import Scene, VideoOptions
    from cscflow.workspace import Workspace

    with Workspace(tiny_ws, read_only=True) as ws:
        scene = Scene(ws, VideoOptions("2017-01-01", "2017-03-02"))
    shown = {v for day in scene.counts.values() for v in day}
    assert "<5" in shown or all(v == "" or int(v.replace(",", "")) >= 5 for v in shown)
    assert not shown & {"1", "2", "3", "4"}
    assert any(v not in ("", "<5") for v in shown)


def test_few_waiting_children_are_not_drawn_one_by_one(tiny_ws):
    """Where 1 to 4 children wait at a station, the video shows a faint ring the size of 5, not their dots (the map
    still draws a count of 1-4 as 5); moving dots stay."""
    from cscflow.report.video import Scene, VideoOptions, few_waiting_hidden
    from cscflow.workspace import Workspace

    with Workspace(tiny_ws, read_only=True) as ws:
        scene = Scene(ws, VideoOptions("2016-06-01", "2017-06-01", days_per_second=30, fps=1))
    seen_few = 0
    for t in scene.times():
        raw = scene.dots.at(float(t))
        shown = few_waiting_hidden(raw, scene.geometry)
        waiting = np.bincount(shown.station[shown.station >= 0], minlength=len(scene.station_ids))
        assert not ((waiting >= 1) & (waiting <= 4)).any()
        few = (raw.waiting >= 1) & (raw.waiting <= 4)
        seen_few += int(few.sum())
        assert shown.ring_dense[few].all() and (shown.ring_outer[few] >= 16).all()
        assert shown.moving.sum() == raw.moving.sum()
    assert seen_few > 0                                   # the tiny county has such stations


@pytest.mark.parametrize(("args", "message"), [
    (["--size", "641x360"], "641x360 pixels cannot be made"),
    (["--fps", "0"], "--fps 0 is out of range"),
    (["--from", "2017-02-30"], "is not a date"),
    (["--from", "2017-03-01", "--to", "2017-01-01"], "is empty"),
    (["--where", "shoe=7"], "cannot filter on 'shoe'"),
])
def test_clear_errors(tiny_ws, tmp_path, args, message):
    r = CliRunner().invoke(cli, ["video", str(tiny_ws), *args, "--out", str(tmp_path / "v.mp4")])
    assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output, r.output
    r = CliRunner().invoke(cli, ["video", str(tiny_ws), "--out", str(tmp_path / "v.gif")])
    assert r.exit_code == 1 and "use --out map.mp4" in r.output


@pytest.mark.parametrize("where", [None, {"sex": ["F"]}, {"repeat": ["2"]}])
def test_station_days_counts_as_stations_on(tiny_ws, where):
    """Every day's counts at once (a difference array over merged stays) equal the engine's rule day by day."""
    import pandas as pd

    from cscflow.journeys.maps import load_map
    from cscflow.journeys.track_rows import cohort_mask
    from cscflow.report.video import station_days
    from cscflow.workspace import Workspace

    with Workspace(tiny_ws, read_only=True) as ws:
        pmap = load_map("england", ws)
        rows, keep, _ = cohort_mask(ws, pmap, where)
    ids = pmap.station_ids
    zero = pd.Timestamp("1970-01-01")
    first = (pd.Timestamp("2016-01-01") - zero).days
    grid = station_days(rows, keep, len(ids), first, first + 800)
    assert grid.shape == (801, len(ids)) and grid.sum() > 0
    for k in range(0, 801, 13):
        c = rows.stations_on(zero + pd.Timedelta(days=first + k), ids, keep)
        ref = np.zeros(len(ids), dtype="int64")
        ref[[ids.index(s) for s in c["station"]]] = c["children"]
        assert np.array_equal(grid[k], ref), k
