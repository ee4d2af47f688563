"""Process maps: the shipped maps, the layered layout, 'auto', and bad files refused with the line."""

from __future__ import annotations

import pytest
from jdata import random_episodes

from cscflow.errors import MapError
from cscflow.journeys import load_map, parse_map
from cscflow.journeys.layout import layered_layout
from cscflow.journeys.maps import MAPS_DIR
from cscflow.model.stages import EXITS, STAGES


def test_england_map_covers_every_stage_and_exit():
    m = load_map("england")
    assert all(m.station_of(s) == s for s in STAGES)
    assert sorted(m.exit_ids) == sorted(EXITS)
    assert all(s["zone"] == "exit" for s in m.stations if s["id"] in EXITS)
    zones = {s["zone"] for s in m.stations}
    assert {"front door", "district teams", "exit"} <= zones
    assert m.precedence[0] == "looked_after" and m.rank("cp_plan") < m.rank("assessment")
    for s in m.stations:
        assert isinstance(s["x"], float) and isinstance(s["y"], float)


def test_front_door_map_keeps_early_help_apart_from_nfa():
    m = load_map("front_door")
    assert m.exit_of("early_help") == "early_help" != m.exit_of("nfa")
    assert m.exit_of("step_down_early_help") == "early_help"
    assert m.station_of("looked_after") is None


def _bad(tmp_path, text):
    p = tmp_path / "map.yaml"
    p.write_text(text)
    with pytest.raises(MapError) as info:
        load_map(p)
    return str(info.value)


GOOD = """name: x
stations:
  - {id: a, label: A, x: 0, y: 0, zone: front door}
  - {id: b, label: B, x: 1, y: 0}
exits:
  - {id: done, x: 2, y: 0, outcomes: [nfa]}
lines:
  - {id: l, stations: [a, b, done]}
precedence: [b, a]
"""


def test_a_good_custom_map(tmp_path):
    p = tmp_path / "map.yaml"
    p.write_text(GOOD)
    m = load_map(p)
    assert m.station_ids == ["a", "b", "done"] and m.precedence == ["b", "a"]
    assert m.exit_of("nfa") == "done" and m.station_of("b") == "b"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD.replace("[a, b, done]", "[a, c, done]"), 8, "station 'c'"),
        (GOOD.replace("id: b, label: B", "id: a, label: B"), 4, "used twice"),
        (GOOD.replace("x: 1, y: 0}", "x: one, y: 0}"), 4, "must be a number"),
        (GOOD.replace("zone: front door}", "zone: front door, colour: red}"), 3, "unknown key 'colour'"),
        (GOOD.replace("- {id: b, label: B, x: 1, y: 0}", "- {id: b, label: B, x: 1, y: 0"), 5, "not valid YAML"),
        (GOOD.replace("precedence: [b, a]", "precedence: [b, zz]"), 9, "'zz'"),
        ("stations: []\n", 1, "non-empty"),
    ],
)
def test_bad_maps_are_refused_with_the_line(tmp_path, text, line, words):
    msg = _bad(tmp_path, text)
    assert f"line {line}:" in msg and words in msg and "map.yaml" in msg


def test_missing_map_names_the_choices():
    with pytest.raises(MapError, match="front_door"):
        load_map("no_such_map")


def test_layered_layout_puts_each_node_right_of_its_predecessors():
    nodes = ["a", "b", "c", "d", "e"]
    edges = [("a", "b", 5), ("b", "c", 5), ("a", "d", 2), ("d", "c", 1), ("c", "a", 9), ("c", "e", 1)]
    pos = layered_layout(nodes, edges)
    for a, b, _ in edges:
        if nodes.index(a) < nodes.index(b):
            assert pos[a][0] < pos[b][0]
    # nodes sharing a layer are stacked, never on top of each other
    assert len(set(pos.values())) == len(nodes)


def test_map_without_positions_gets_a_layout():
    m = parse_map("stations:\n  - {id: a}\n  - {id: b}\n  - {id: c}\nlines:\n  - {id: l, stations: [a, b, c]}\n")
    assert [(s["x"], s["y"]) for s in m.stations] == [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)]


def test_auto_map_has_one_station_per_stage_value(write_episodes):
    df = random_episodes(4, 10)
    df.loc[df.index[:5], "stage"] = "A_SUBMITTED"  # any value, not only the CSC vocabulary
    ws = write_episodes(df)
    m = load_map("auto", ws)
    assert set(m.station_ids) - set(m.exit_ids) == set(df.stage)
    assert all(m.station_of(s) == s for s in df.stage)
    assert set(m.exit_ids) == set(df.outcome.dropna()) - set(df.stage)
    # precedence covers every station; the layout places each station once
    assert sorted(m.precedence) == sorted(set(df.stage))
    assert len({(s["x"], s["y"]) for s in m.stations}) == len(m.stations)


def test_shipped_maps_parse_from_their_files():
    for path in MAPS_DIR.glob("*.yaml"):
        assert load_map(path).stations


def test_auto_map_from_a_sample_still_has_every_stage(write_episodes, monkeypatch):
    from cscflow.journeys import layout

    df = random_episodes(6, 40)
    df.loc[df.index[-1], "stage"] = "rare_step"
    ws = write_episodes(df)
    monkeypatch.setattr(layout, "SAMPLE_EVENTS", 30)
    m = load_map("auto", ws)
    assert set(m.station_ids) - set(m.exit_ids) == set(df.stage)
