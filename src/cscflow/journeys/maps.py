"""Process maps: stations, lines, which stages and outcomes go where, and precedence.

A map is a YAML file (see ``journeys/maps/england.yaml``)::

    name: my_la
    title: My LA front door
    stations:                       # where children stay
      - {id: contact, label: Contact, x: 0, y: 0, zone: front door, stages: [contact]}
      - {id: referral, label: Referral, x: 1, y: 0, zone: front door}   # stages default to [id]
    exits:                          # where journeys end (drawn as stations in zone "exit")
      - {id: nfa, label: No further action, x: 2, y: 1, outcomes: [nfa]}
    lines:                          # drawn tube lines (ordered station ids)
      - {id: main, label: Main line, colour: "#00703c", stations: [contact, referral, nfa]}
    precedence: [referral, contact] # overlapping stays: the first listed wins

Coordinates are abstract units (the viewer scales the bounding box); when any
station has no ``x``/``y`` the whole map gets a layered layout. A bad file is
refused with its line number and the problem.

>>> m = load_map("england")
>>> m.station_of("s47"), m.exit_of("step_down_early_help")
('s47', 'step_down_early_help')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

from cscflow.errors import MapError

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

MAPS_DIR = Path(__file__).parent / "maps"
BUILTIN = {"england": MAPS_DIR / "england.yaml", "front_door": MAPS_DIR / "front_door.yaml"}
EXIT_ZONE = "exit"
_ID = re.compile(r"^[^\s>][^>]*$")

_TOP_KEYS = {"name", "title", "stations", "exits", "lines", "precedence", "description"}
_STATION_KEYS = {"id", "label", "x", "y", "zone", "stages", "description"}
_EXIT_KEYS = {"id", "label", "x", "y", "outcomes", "description", "zone"}
_LINE_KEYS = {"id", "label", "colour", "color", "stations"}


class _Node(dict[Any, Any]):
    """A YAML mapping that remembers its line and the lines of its keys."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml's when built with it
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Node:
    out = _Node(loader.construct_mapping(node, deep=True))
    out.line = node.start_mark.line + 1
    out.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


@dataclass
class ProcessMap:
    """A process map: stations (exits included, zone ``"exit"``), lines and the stage/outcome mapping.

    >>> m = load_map("front_door")
    >>> [s["id"] for s in m.stations][:3]
    ['contact', 'referral', 'assessment']
    """

    name: str
    title: str
    stations: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    precedence: list[str]
    stage_map: dict[str, str] = field(default_factory=dict)
    outcome_map: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def station_of(self, stage: str) -> str | None:
        """The station a stage is drawn at (None when the map leaves the stage out)."""
        return self.stage_map.get(stage)

    def exit_of(self, outcome: str | None) -> str | None:
        """The exit station an outcome leads to (None when the outcome is not an exit of this map)."""
        return None if outcome is None else self.outcome_map.get(outcome)

    @property
    def station_ids(self) -> list[str]:
        """Every station id in map order (exits last)."""
        return [s["id"] for s in self.stations]

    @property
    def exit_ids(self) -> list[str]:
        return [s["id"] for s in self.stations if s["zone"] == EXIT_ZONE]

    def index(self, station: str) -> int:
        """Position of ``station`` in :attr:`stations` (the index tracks use)."""
        return self.station_ids.index(station)

    def rank(self, station: str) -> int:
        """Precedence rank (0 wins over 1)."""
        return self.precedence.index(station)

    def label(self, station: str) -> str:
        return str(next(s["label"] for s in self.stations if s["id"] == station))

    @property
    def labels(self) -> dict[str, str]:
        """Each station's name on the map by its id (for readers: "CP plan" for cp_plan).

        >>> load_map("england").labels["cp_plan"]
        'CP plan'
        """
        return {str(s["id"]): str(s.get("label") or s["id"]) for s in self.stations}

    def rules_json(self) -> str:
        """What a timeline on this map depends on, as JSON: the stations (id, zone, in order), precedence and the
        stage and outcome mappings; not the labels, colours, places or lines, so that redrawing a map keeps the
        timelines stored for it (:mod:`cscflow.journeys.timeline_store`).

        >>> load_map("england").rules_json() == load_map("england").rules_json()
        True
        """
        return json.dumps({"stations": [[s["id"], s["zone"]] for s in self.stations],
                           "precedence": list(self.precedence), "stages": dict(self.stage_map),
                           "outcomes": dict(self.outcome_map)}, sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (what the web app serves)."""
        return {
            "name": self.name,
            "title": self.title,
            "stations": [dict(s) for s in self.stations],
            "lines": [dict(x) for x in self.lines],
            "precedence": list(self.precedence),
            "stages": dict(self.stage_map),
            "outcomes": dict(self.outcome_map),
        }


def load_map(name_or_path: str | Path | ProcessMap, ws: WorkspaceLike | None = None) -> ProcessMap:
    """Load a process map: ``"england"``, ``"front_door"``, a YAML path, or ``"auto"`` (needs ``ws``).

    >>> load_map("england").rank("looked_after") < load_map("england").rank("assessment")
    True
    """
    if isinstance(name_or_path, ProcessMap):
        return name_or_path
    key = str(name_or_path)
    if key == "auto":
        if ws is None:
            raise MapError("the 'auto' map is built from a workspace's data", hint="pass the workspace too")
        return auto_map(ws)
    path = BUILTIN.get(key, Path(key))
    if not path.is_file():
        raise MapError(
            f"no process map {key!r}",
            hint="use 'england', 'front_door', 'auto' or the path of a map YAML file (copy one from "
            f"{MAPS_DIR})",
        )
    return parse_map(path.read_text(encoding="utf-8"), source=str(path))


def parse_map(text: str, source: str = "<map>") -> ProcessMap:
    """Parse and check map YAML text; errors name ``source``, the line and the problem."""
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MapError(f"{source}{line}: not valid YAML ({problem})", hint="fix the YAML syntax there") from None
    return _Checker(source).check(doc)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, line: int, problem: str, hint: str) -> NoReturn:
        raise MapError(f"{self.source}, line {line}: {problem}", hint=hint)

    def mapping(self, node: Any, what: str, line: int, keys: set[str]) -> _Node:
        if not isinstance(node, _Node):
            self.fail(line, f"{what} must be a mapping (key: value), found {type(node).__name__}",
                      "see journeys/maps/england.yaml for the layout")
        unknown = sorted(set(map(str, node)) - keys)
        if unknown:
            self.fail(node.key_lines.get(unknown[0], node.line), f"unknown key {unknown[0]!r} in {what}",
                      f"allowed keys: {', '.join(sorted(keys))}")
        return node

    def ident(self, node: _Node, key: str, what: str) -> str:
        value = node.get(key)
        if not isinstance(value, str) or not _ID.match(value.strip()):
            self.fail(node.key_lines.get(key, node.line), f"{what} has no valid {key!r} (found {value!r})",
                      "give a short text id without '>'")
        return value.strip()

    def number(self, node: _Node, key: str, what: str) -> float | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(node.key_lines.get(key, node.line), f"{what}: {key} must be a number, found {value!r}",
                      "use plain numbers for x and y (map units)")
        return float(value)

    def strings(self, node: _Node, key: str, what: str, default: list[str]) -> list[str]:
        value = node.get(key, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(node.key_lines.get(key, node.line), f"{what}: {key} must be a list of texts, found {value!r}",
                      f"write {key}: [a, b]")
        return [v.strip() for v in value]

    def items(self, doc: _Node, key: str, required: bool) -> list[Any]:
        value = doc.get(key)
        if value is None:
            if required:
                self.fail(doc.line, f"the map has no {key!r} list", f"add '{key}:' with at least one entry")
            return []
        if not isinstance(value, list) or (required and not value):
            self.fail(doc.key_lines.get(key, doc.line), f"{key!r} must be a non-empty list",
                      "start each entry with '- '")
        return value

    def check(self, doc: Any) -> ProcessMap:
        doc = self.mapping(doc, "the map", 1, _TOP_KEYS)
        stations: list[dict[str, Any]] = []
        stage_map: dict[str, str] = {}
        outcome_map: dict[str, str] = {}
        seen: dict[str, int] = {}
        key_line = doc.key_lines
        for i, raw in enumerate(self.items(doc, "stations", True)):
            node = self.mapping(raw, f"station {i + 1}", key_line.get("stations", 1), _STATION_KEYS)
            sid = self.ident(node, "id", f"station {i + 1}")
            self._unique(sid, node, seen)
            st = self._station(node, sid, f"station {sid!r}", str(node.get("zone") or ""))
            for stage in self.strings(node, "stages", f"station {sid!r}", [sid]):
                if stage in stage_map:
                    self.fail(node.key_lines.get("stages", node.line),
                              f"stage {stage!r} is mapped to both {stage_map[stage]!r} and {sid!r}",
                              "map each stage to one station")
                stage_map[stage] = sid
            stations.append(st)
        for i, raw in enumerate(self.items(doc, "exits", False)):
            node = self.mapping(raw, f"exit {i + 1}", key_line.get("exits", 1), _EXIT_KEYS)
            sid = self.ident(node, "id", f"exit {i + 1}")
            self._unique(sid, node, seen)
            if node.get("zone") not in (None, EXIT_ZONE):
                self.fail(node.key_lines["zone"], f"exit {sid!r} has zone {node['zone']!r}",
                          f"exits are always in zone {EXIT_ZONE!r}; leave zone out")
            st = self._station(node, sid, f"exit {sid!r}", EXIT_ZONE)
            for outcome in self.strings(node, "outcomes", f"exit {sid!r}", [sid]):
                if outcome in outcome_map:
                    self.fail(node.key_lines.get("outcomes", node.line),
                              f"outcome {outcome!r} leads to both {outcome_map[outcome]!r} and {sid!r}",
                              "map each outcome to one exit")
                outcome_map[outcome] = sid
            stations.append(st)
        lines = []
        for i, raw in enumerate(self.items(doc, "lines", False)):
            node = self.mapping(raw, f"line {i + 1}", key_line.get("lines", 1), _LINE_KEYS)
            lid = self.ident(node, "id", f"line {i + 1}")
            members = self.strings(node, "stations", f"line {lid!r}", [])
            for m in members:
                if m not in seen:
                    self.fail(node.key_lines.get("stations", node.line),
                              f"line {lid!r} names station {m!r}, which the map does not define",
                              f"use one of: {', '.join(seen)}")
            lines.append({"id": lid, "label": str(node.get("label") or lid),
                          "colour": str(node.get("colour") or node.get("color") or "#505a5f"),
                          "stations": members})
        inner = [s["id"] for s in stations if s["zone"] != EXIT_ZONE]
        precedence: list[str] = []
        pline = key_line.get("precedence", doc.line)
        raw_prec = doc.get("precedence") or []
        if not isinstance(raw_prec, list):
            self.fail(pline, "'precedence' must be a list of station ids", "write precedence: [a, b, c]")
        for p in raw_prec:
            p = str(p)
            target = p if p in inner else stage_map.get(p)
            if target is None:
                self.fail(pline, f"precedence names {p!r}, which is not a station (exits need no precedence)",
                          f"use station ids: {', '.join(inner)}")
            if target not in precedence:
                precedence.append(target)
        precedence += [s for s in inner if s not in precedence]
        if any(s.get("x") is None or s.get("y") is None for s in stations):
            from cscflow.journeys.layout import layered_layout

            pos = layered_layout([s["id"] for s in stations], _line_edges(lines, stations))
            for s in stations:
                s["x"], s["y"] = pos[s["id"]]
        name = str(doc.get("name") or Path(self.source).stem)
        return ProcessMap(name=name, title=str(doc.get("title") or name), stations=stations, lines=lines,
                          precedence=precedence, stage_map=stage_map, outcome_map=outcome_map,
                          source=self.source)

    def _unique(self, sid: str, node: _Node, seen: dict[str, int]) -> None:
        if sid in seen:
            self.fail(node.key_lines.get("id", node.line), f"station id {sid!r} is used twice (first on line "
                      f"{seen[sid]})", "give each station and exit its own id")
        seen[sid] = node.key_lines.get("id", node.line)

    def _station(self, node: _Node, sid: str, what: str, zone: str) -> dict[str, Any]:
        return {"id": sid, "label": str(node.get("label") or sid), "x": self.number(node, "x", what),
                "y": self.number(node, "y", what), "zone": zone}


def _line_edges(lines: list[dict[str, Any]], stations: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    edges = [(a, b, 1.0) for ln in lines for a, b in zip(ln["stations"], ln["stations"][1:], strict=False)]
    if not edges:  # no lines: the order of the file
        ids = [s["id"] for s in stations if s["zone"] != EXIT_ZONE]
        edges = [(a, b, 1.0) for a, b in zip(ids, ids[1:], strict=False)]
    return edges


def auto_map(ws: Any) -> ProcessMap:
    """One station per stage value in the workspace's episodes (id = the value), laid out in layers.

    Outcome values that are not stages become exits. Works for any event log loaded as episodes.
    """
    from cscflow.journeys.layout import layered_layout, stage_order

    stages, edges, exits = stage_order(ws)
    if not stages:
        raise MapError("the workspace has no episodes to build an 'auto' map from", hint="load data first")
    # Keep the heavier edges for layering so that rare back-and-forth steps do not stretch the map.
    total = sum(w for _, _, w in edges) or 1.0
    pos = layered_layout(stages, edges, min_weight=0.01 * total / max(len(stages), 1))
    width = max((x for x, _ in pos.values()), default=0.0)
    stations = [{"id": s, "label": s, "x": pos[s][0], "y": pos[s][1], "zone": ""} for s in stages]
    stations += [
        {"id": e, "label": e, "x": width + 1.0, "y": float(i), "zone": EXIT_ZONE}
        for i, e in enumerate(exits)
    ]
    return ProcessMap(
        name="auto",
        title="Automatic map (one station per stage)",
        stations=stations,
        lines=[],
        precedence=list(stages),
        stage_map={s: s for s in stages},
        outcome_map={e: e for e in exits},
        source="auto",
    )
