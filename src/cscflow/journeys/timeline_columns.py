"""What every timeline builder shares: the timeline's columns, the order of a source's rows, and the rank of
each episode of need in a child's life (:mod:`.timeline` builds stays' timelines, :mod:`.timeline_points`
event logs' instants).

>>> COLUMNS[:4]
['child_id', 'need_id', 'repeat', 'seq']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

#: Columns of a timeline (the contract; extra columns follow these).
COLUMNS = ["child_id", "need_id", "repeat", "seq", "station", "start", "end"]
EXTRA = ["kind", "stage", "outcome", "team", "episode_id"]

_ORDER = ("source", "source_row", "episode_id")


def need_ranks(ws: WorkspaceLike) -> ibis.Table:
    """(n_child, n_need, need_rank): each episode of need numbered in the order of its first stay."""
    ep = ws.table("episodes")
    needs = ep.filter(ep.need_id.notnull()).group_by(["child_id", "need_id"]).aggregate(first=ep.start.min())
    w = ibis.window(group_by=needs.child_id, order_by=[needs.first, needs.need_id])
    return needs.select(n_child=needs.child_id, n_need=needs.need_id, need_rank=ibis.row_number().over(w) + 1)
