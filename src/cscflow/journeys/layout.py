"""Layered layout for maps without positions, the stage order the ``auto`` map is laid out in
(:func:`cscflow.journeys.maps.auto_map` builds it), and the routes dots take over a map's lines.

The layout is the classic layered (Sugiyama-style) placement reduced to what a tube map needs:
nodes in a given order, edges pointing backwards in that order ignored (cycle breaking),
each node one layer to the right of its furthest predecessor (longest path), nodes of one
layer stacked downwards in order.

>>> layered_layout(["a", "b", "c"], [("a", "b", 1.0), ("a", "c", 1.0)])
{'a': (0.0, 0.0), 'b': (1.0, 0.0), 'c': (1.0, 1.0)}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis

if TYPE_CHECKING:
    from cscflow.journeys.maps import ProcessMap


def layered_layout(
    nodes: list[str], edges: list[tuple[str, str, float]], min_weight: float = 0.0
) -> dict[str, tuple[float, float]]:
    """Positions (x = layer, y = place in the layer) for ``nodes`` in their given order.

    ``edges`` are (source, target, weight); edges lighter than ``min_weight`` are ignored.
    """
    order = {n: i for i, n in enumerate(nodes)}
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b, w in edges:
        if a in order and b in order and order[a] < order[b] and w >= min_weight:
            preds[b].append(a)
    layer: dict[str, int] = {}
    for n in nodes:  # nodes are in topological order once backward edges are dropped
        layer[n] = max((layer[p] + 1 for p in preds[n]), default=0)
    filled: dict[int, int] = {}
    pos = {}
    for n in nodes:
        k = layer[n]
        pos[n] = (float(k), float(filled.get(k, 0)))
        filled[k] = filled.get(k, 0) + 1
    return pos


#: Above this many events the auto map's layout is worked out from a sample of cases.
SAMPLE_EVENTS = 100_000


def stage_order(ws: Any) -> tuple[list[str], list[tuple[str, str, float]], list[str]]:
    """Stages of the workspace ordered by where they usually come in a child's journey (mean position).

    Returns (stages, directly-follows edges between stages with counts, outcomes that are not stages).
    """
    ep = ws.table("episodes")
    # Stages and outcomes with their counts (few groups): the number of events, every stage, the outcomes.
    by = ws.execute(ep.group_by(["stage", "outcome"]).aggregate(n=ep.count()))
    n = int(by["n"].sum())
    if n > SAMPLE_EVENTS:  # the order of stations needs a sample of cases, not every event
        every = -(-n // SAMPLE_EVENTS)
        ep = ep.filter((ep.child_id.hash() % every).abs() == 0)
    w = ibis.window(group_by=ep.child_id, order_by=[ep.start, ep.source, ep.source_row, ep.episode_id])
    t = ep.mutate(pos=ibis.row_number().over(w), nxt=ep.stage.lead().over(w))
    # One pass: directly-follows counts with the positions of the source events.
    agg = ws.execute(t.group_by(["stage", "nxt"]).aggregate(w=t.count(), p=t.pos.sum()))
    agg = agg[agg["stage"].notna()]
    pos = agg.groupby("stage")[["p", "w"]].sum()
    pos = (pos["p"] / pos["w"]).rename("mean").reset_index()
    pos["n"] = agg.groupby("stage")["w"].sum().to_numpy()
    ranked = pos.sort_values(["mean", "n", "stage"], ascending=[True, False, True])
    stages = [str(s) for s in ranked["stage"]]
    pairs = agg[agg["nxt"].notna()]
    edges = [(str(a), str(b), float(c)) for a, b, c in pairs[["stage", "nxt", "w"]].itertuples(index=False)]
    every_stage = by[by["stage"].notna()].groupby("stage", as_index=False)["n"].sum()
    rest = every_stage[~every_stage["stage"].isin(stages)].sort_values(["n", "stage"], ascending=[False, True])
    stages += [str(s) for s in rest["stage"]]  # stages the sample missed go last
    exits = sorted(set(map(str, by["outcome"].dropna())) - set(stages))
    return stages, edges, exits


#: A move between two stations that no line of the map joins earns a drawn route of its own (a thin dashed line,
#: for the part of its way that no line covers) when it is at least this share of the moves out of its station ...
ROUTE_SHARE = 0.10
#: ... and at least this many moves.
ROUTE_MIN = 20
#: Such a move follows the lines (and the routes added before it) when that way is at most this many times as long
#: as a straight route; otherwise it gets a straight route of its own.
ROUTE_DETOUR = 1.3


def network_routes(
    pmap: ProcessMap,
    moves: dict[tuple[str, str], int],
    min_share: float = ROUTE_SHARE,
    min_moves: int = ROUTE_MIN,
) -> dict[str, list[dict[str, Any]]]:
    """The drawn route of every move between two stations in the data, and the routes the map lacks.

    ``moves`` counts the children's moves (from station, to station). A move two stations of one map line make
    follows that line between them (the shortest such stretch). A move no line joins that is at least
    ``min_share`` of its station's moves out and at least ``min_moves`` moves (the heaviest first) follows the
    shortest way over the lines and the routes added so far when it is at most :data:`ROUTE_DETOUR` times as long
    as a straight route, else becomes an *added* route (a straight thin dashed line; never a part of the way, which
    would draw the child through a station it did not visit). Every other move follows the shortest path over the lines and the added routes (by
    length on the map), or, when there is none, gets an added route too (``rare``). So every moving dot is on a
    drawn line.

    Returns ``{"added": [{"from", "to", "n", "share", "rare", "move"}], "paths": [{"from", "to", "via"}]}``,
    ``via`` being the station ids the dot passes, ends included; an added route's ``n`` is the moves it carries
    (its own and those routed over it), ``move`` the (from, to) it was added for and ``share`` that move's share
    of its station's moves out.

    >>> from cscflow.journeys.maps import load_map
    >>> r = network_routes(load_map("england"), {("contact", "assessment"): 90, ("assessment", "looked_after"): 30,
    ...                                          ("referral", "s47"): 1, ("referral", "assessment"): 99})
    >>> [p["via"] for p in r["paths"]]  # doctest: +NORMALIZE_WHITESPACE
    [['contact', 'referral', 'assessment'], ['assessment', 'looked_after'],
     ['referral', 'assessment', 'strategy_discussion', 's47'], ['referral', 'assessment']]
    >>> [(a["from"], a["to"], a["n"]) for a in r["added"]]
    [('assessment', 'looked_after', 30)]

    Contact to NFA, half of Contact's moves, runs along the front door's line (barely longer than straight); S47 to
    NFA, 80% of its moves, would go far round (through the strategy discussion) and gets a route; a light move
    follows the lines however long:

    >>> r = network_routes(load_map("england"), {("contact", "nfa"): 50, ("contact", "referral"): 50,
    ...                                          ("s47", "nfa"): 40, ("s47", "icpc"): 10, ("s47", "closed"): 3})
    >>> [p["via"] for p in r["paths"]]  # doctest: +NORMALIZE_WHITESPACE
    [['contact', 'referral', 'assessment', 'nfa'], ['contact', 'referral'], ['s47', 'nfa'], ['s47', 'icpc'],
     ['s47', 'strategy_discussion', 'assessment', 'cin_plan', 'closed']]
    >>> [(a["from"], a["to"], a["n"], a["rare"]) for a in r["added"]]
    [('s47', 'nfa', 40, False)]
    """
    import heapq
    import math

    xy = {s["id"]: (float(s["x"]), float(s["y"])) for s in pmap.stations}

    def length(path: list[str]) -> float:
        return sum(math.dist(xy[a], xy[b]) for a, b in zip(path, path[1:], strict=False))

    def along_lines(a: str, b: str) -> list[str] | None:
        best: list[str] | None = None
        for line in pmap.lines:
            ids = [str(s) for s in line.get("stations", [])]
            if a in ids and b in ids:
                i, j = ids.index(a), ids.index(b)
                path = ids[i : j + 1] if i <= j else ids[j : i + 1][::-1]
                if best is None or length(path) < length(best):
                    best = path
        return best

    out_of: dict[str, int] = {}
    for (a, b), n in moves.items():
        if a != b:
            out_of[a] = out_of.get(a, 0) + int(n)
    graph: dict[str, set[str]] = {s: set() for s in xy}
    for line in pmap.lines:
        ids = [str(s) for s in line.get("stations", []) if str(s) in xy]
        for u, v in zip(ids, ids[1:], strict=False):
            graph[u].add(v)
            graph[v].add(u)
    added: dict[frozenset[str], dict[str, Any]] = {}

    def shortest(a: str, b: str) -> list[str] | None:
        """Dijkstra over the drawn network (the lines and the routes added so far), by length on the map."""
        dist, heap = {a: 0.0}, [(0.0, a)]
        back: dict[str, str] = {}
        while heap:
            d, u = heapq.heappop(heap)
            if u == b:
                path = [b]
                while path[-1] != a:
                    path.append(back[path[-1]])
                return path[::-1]
            if d > dist[u]:
                continue
            for v in sorted(graph[u]):
                nd = d + math.dist(xy[u], xy[v])
                if nd < dist.get(v, math.inf):
                    dist[v], back[v] = nd, u
                    heapq.heappush(heap, (nd, v))
        return None

    def add_steps(via: list[str], move: tuple[str, str], share: float, rare: bool) -> None:
        """Add the steps of ``via`` that no line nor added route makes as added routes."""
        for u, v in zip(via, via[1:], strict=False):
            if v not in graph[u]:
                graph[u].add(v)
                graph[v].add(u)
                added[frozenset((u, v))] = {"from": u, "to": v, "n": 0, "share": round(share, 4), "rare": rare,
                                            "move": list(move)}

    pairs = [(a, b) for a, b in moves if a in xy and b in xy]
    via_of: dict[tuple[str, str], list[str]] = {}
    for a, b in pairs:
        if a == b:
            via_of[(a, b)] = [a]
        elif (line_way := along_lines(a, b)) is not None:
            via_of[(a, b)] = line_way
    # Heavy moves no line joins, heaviest first: the lines where they do not go far round, else new routes.
    heavy = sorted((p for p in pairs if p not in via_of), key=lambda p: (-int(moves[p]), p))
    for a, b in heavy:
        n = int(moves[(a, b)])
        share = n / out_of[a] if out_of.get(a) else 0.0
        if share >= min_share and n >= min_moves:
            via = shortest(a, b)
            if via is None or length(via) > ROUTE_DETOUR * math.dist(xy[a], xy[b]):
                via = [a, b]
                add_steps(via, (a, b), share, False)
            via_of[(a, b)] = via
    for a, b in pairs:
        if (a, b) in via_of:
            continue
        via = shortest(a, b)
        if via is None:
            via = [a, b]
            add_steps(via, (a, b), 0.0, True)
        via_of[(a, b)] = via
    paths = []
    for a, b in pairs:
        via = via_of[(a, b)]
        for u, v in zip(via, via[1:], strict=False):
            if frozenset((u, v)) in added:
                added[frozenset((u, v))]["n"] += int(moves[(a, b)])
        paths.append({"from": a, "to": b, "via": via})
    return {"added": list(added.values()), "paths": paths}
