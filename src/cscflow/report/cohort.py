"""The report's statistics for a cohort: a temporary workspace holding only the cohort's children.

The flow tables and the map take ``where`` themselves; the statistics (:func:`cscflow.analytics.run`) and the
statutory-timescale clocks (:mod:`cscflow.practices`) read whole tables. :func:`cohort_workspace` gives them a
workspace of the cohort's children: the children with at least one stay on the map matching the filter
(:func:`cscflow.journeys.track_rows.cohort_rows`, the rule of the map and the flow tables), each with their whole
record (every stay, their linked care proceedings), so a curve follows a child of the cohort from start to end.
Care proceedings not linked to a child (by ``cscflow link``) have no child to filter on and are left out; the
restricted ``identifiers`` table is never copied. The copy lives in a temporary folder removed afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from cscflow.practices.reviews import FILE as REVIEWS

#: tables copied whole (sources' metadata and event markers, not about a child)
WHOLE = ("_sources", "events")
#: tables copied for the cohort's children only
BY_CHILD = ("children", "episodes", "proceedings", "links")

RULE = ("the children with at least one stay on the map matching the filter, each with their whole record "
        "(every stay, and their care proceedings once linked by `cscflow link`)")


@contextmanager
def cohort_workspace(ws: Any, pmap: Any, where: dict[str, Any]) -> Iterator[Any]:
    """A temporary workspace holding only the children of cohort ``where`` (see the module's rule)."""
    from cscflow.journeys.track_rows import cohort_rows
    from cscflow.workspace import Workspace

    ids = pa.table({"cohort_child_id": pa.array([str(c) for c in cohort_rows(ws, pmap, where).child_ids],
                                                pa.string())})
    folder = tempfile.mkdtemp(prefix="cscflow-cohort-")
    sub = None
    try:
        sub = Workspace(folder, la=None if ws.multi_la else (ws.la or None), multi_la=ws.multi_la or None)
        sub.set(**{k: v for k, v in ws.settings.items() if k not in sub.settings})
        kept = ws.register("_cscflow_report_cohort", ids)
        try:
            present = set(ws.tables())
            for name in WHOLE:
                if name in present:
                    sub.write(name, ws.to_pyarrow(ws.table(name)), mode="replace")
            for name in BY_CHILD:
                if name in present:
                    t = ws.table(name)
                    mine = t.child_id.isin(kept.cohort_child_id)
                    if name == "proceedings" and "links" in present:   # linked by `cscflow link`
                        lk = ws.table("links")
                        mine |= t.proceedings_id.isin(lk.filter(lk.child_id.isin(kept.cohort_child_id)).proceedings_id)
                    sub.write(name, ws.to_pyarrow(t.filter(mine)), mode="replace")
        finally:
            ws.unregister("_cscflow_report_cohort")
        reviews = Path(ws.path) / REVIEWS
        if reviews.exists():                                # clock reviews recorded by the LA (practices)
            shutil.copy(reviews, Path(folder) / REVIEWS)
        yield sub
    finally:
        if sub is not None:
            sub.close()
        shutil.rmtree(folder, ignore_errors=True)
