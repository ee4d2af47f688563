"""Episode frames for the journeys tests (imported by the tests and conftest)."""

from __future__ import annotations

import numpy as np
import pandas as pd

STAGE_POOL = ["contact", "referral", "assessment", "strategy_discussion", "s47", "icpc", "cin_plan", "cp_plan",
              "looked_after", "early_help", "care_leaver", "unknown_stage"]
OUTCOMES = [None, "nfa", "closed", "referral", "returned_home", "early_help", "step_down_early_help", "cin_plan"]


def episodes_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows (child, stage, start, end, outcome, need_id[, team]) -> an episodes frame in source order."""
    cols = ["child_id", "stage", "start", "end", "outcome", "need_id", "team"]
    df = pd.DataFrame([tuple(r) + (None,) * (len(cols) - len(r)) for r in rows], columns=cols)
    df["start"] = pd.to_datetime(df["start"], format="mixed")
    df["end"] = pd.to_datetime(df["end"], format="mixed")
    df["episode_id"] = [f"e{i:05d}" for i in range(len(df))]
    df["source"] = "test.csv"
    df["source_row"] = np.arange(1, len(df) + 1)
    return df


def random_episodes(seed: int, n_children: int = 40) -> pd.DataFrame:
    """Messy random stays on whole days: overlaps, same-day steps, open stays, several needs."""
    rng = np.random.default_rng(seed)
    rows = []
    base = pd.Timestamp("2024-02-01")
    for c in range(n_children):
        for _ in range(rng.integers(1, 9)):
            start = base + pd.Timedelta(days=int(rng.integers(0, 60)))
            length = 0 if rng.random() < 0.4 else int(rng.integers(1, 21))
            end = None if rng.random() < 0.1 else start + pd.Timedelta(days=length)
            outcome = OUTCOMES[rng.integers(len(OUTCOMES))] if end is not None else None
            need = [None, "n1", "n2", "n3"][rng.integers(4)]
            rows.append((f"c{c:03d}", STAGE_POOL[rng.integers(len(STAGE_POOL))], start, end, outcome,
                         None if need is None else f"c{c:03d}{need}", ["North", "South", None][rng.integers(3)]))
    df = episodes_frame(rows)
    # Source order not the same as time order, and two sources.
    perm = rng.permutation(len(df))
    df["source_row"] = perm + 1
    df["source"] = np.where(rng.random(len(df)) < 0.5, "a.csv", "b.csv")
    return df


