"""A columnar collector of simulated stays (numpy arrays appended per step, joined once).

>>> b = StayBuffer()
>>> b.add("contact", child=np.array([0]), need=np.array([-1]), start=np.array([16000]),
...       end=np.array([16000]), outcome=np.array(["nfa"]), team="Front Door")
>>> b.frame()["stage"].tolist()
['contact']
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class StayBuffer:
    """Stays as parallel arrays: child index, need index (-1 = none), start/end days, outcome, team, attrs."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        stage: str,
        *,
        child: np.ndarray,
        need: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        outcome: np.ndarray,
        team: str | np.ndarray,
        attrs: np.ndarray | None = None,
        seconds: np.ndarray | None = None,
        worker: np.ndarray | None = None,
    ) -> None:
        """Append stays of one stage (all arrays of one length; ``end`` < 0 means open)."""
        n = len(child)
        if n == 0:
            return
        part = {
            "stage": np.full(n, stage, dtype=object),
            "child": np.asarray(child, dtype=np.int64),
            "need": np.asarray(need, dtype=np.int64),
            "start": np.asarray(start, dtype=np.int64),
            "end": np.asarray(end, dtype=np.int64),
            "outcome": np.asarray(outcome, dtype=object),
            "team": np.full(n, team, dtype=object) if isinstance(team, str) else np.asarray(team, dtype=object),
            "attrs": np.full(n, "{}", dtype=object) if attrs is None else np.asarray(attrs, dtype=object),
            "seconds": np.zeros(n, dtype=np.int64) if seconds is None else np.asarray(seconds, dtype=np.int64),
            "worker": np.full(n, -1, dtype=np.int64) if worker is None else np.asarray(worker, dtype=np.int64),
        }
        self.parts.append(part)

    def arrays(self) -> dict[str, np.ndarray]:
        """All stays as one array per column."""
        keys = ("stage", "child", "need", "start", "end", "outcome", "team", "attrs", "seconds", "worker")
        if not self.parts:
            return {k: np.zeros(0) for k in keys}
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}

    def frame(self) -> pd.DataFrame:
        """All stays as one DataFrame (columns as in :meth:`add`)."""
        if not self.parts:
            return pd.DataFrame({k: [] for k in ("stage", "child", "need", "start", "end", "outcome", "team",
                                                 "attrs", "seconds", "worker")})
        keys = self.parts[0].keys()
        return pd.DataFrame({k: np.concatenate([p[k] for p in self.parts]) for k in keys})


def attrs_json(**columns: np.ndarray) -> np.ndarray:
    """JSON object texts built column-wise, e.g. ``attrs_json(legal_status=ls, placement=pl)``.

    Values are strings; ``None``/empty values are left out. Vectorised over distinct
    combinations, so it is fast when codes repeat (as DfE codes do).

    >>> attrs_json(a=np.array(["x", "y"]), b=np.array(["1", None], dtype=object)).tolist()
    ['{"a": "x", "b": "1"}', '{"a": "y"}']
    """
    names = list(columns)
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame.fillna("\x00")))
    texts = []
    for combo in uniques:
        items = [f'"{k}": "{v}"' for k, v in zip(names, combo, strict=True) if v not in ("\x00", "")]
        texts.append("{" + ", ".join(items) + "}")
    out: np.ndarray = np.asarray(texts, dtype=object)[codes]
    return out
