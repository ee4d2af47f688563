"""The small web county with late assessments: for every fourth child the first assessment runs ``EXTRA`` days
longer (its later stays moved on by as much), so ``assessment-45wd`` clocks are overdue on many days of the data
(the small county itself finishes every assessment within 45 working days)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import small_county

EXTRA = 150  # days: an assessment of 5-60 days then lasts 155-210, well past 45 working days (~63 days)


def late_children(episodes: pd.DataFrame) -> list[str]:
    """The children whose first assessment is made late (every fourth child with an assessment)."""
    kids = sorted(episodes.loc[episodes["stage"] == "assessment", "child_id"].unique())
    return kids[1::4]


def build(path: Path) -> Path:
    """The small county at ``path``, its episodes rewritten with the late assessments."""
    from cscflow import Workspace

    small_county.build(path)
    end = pd.Timestamp(small_county.DATA_END)
    with Workspace(path) as ws:
        ep = ws.table("episodes").execute()
        shift = pd.Timedelta(days=EXTRA)
        for child in late_children(ep):
            mine = ep[ep["child_id"] == child]
            first = mine[mine["stage"] == "assessment"].sort_values("start").index[0]
            was = ep.at[first, "end"]
            if pd.isna(was):
                continue
            later = mine.index[(mine["start"] >= was) & (mine.index != first)]
            ep.loc[later, "start"] += shift
            ep.loc[later, "end"] += shift
            ep.at[first, "end"] = was + shift
        ep = ep[ep["start"] <= end].copy()
        open_now = ep["end"] > end
        ep.loc[open_now, "end"] = pd.NaT
        ep.loc[open_now, "outcome"] = None
        ws.write("episodes", ep.reset_index(drop=True), mode="replace")
    return path
