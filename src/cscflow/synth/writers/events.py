"""The generic event log: ``events.parquet`` and ``events.csv`` (one row per stay).

Columns: child_id, stage, start, end, outcome, team, attributes (JSON text). ``need_id`` and
``worker`` are included as an LA's case management system would export them. Times are
written as ISO timestamps in the CSV; the Parquet keeps timestamp columns.

>>> from cscflow.synth import simulate
>>> import tempfile, pathlib, numpy as np
>>> paths = write(simulate("tiny", seed=2), pathlib.Path(tempfile.mkdtemp()), np.random.default_rng(0))
>>> [p.name for p in paths]
['events.parquet', 'events.csv']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cscflow.synth.county import County
from cscflow.synth.truth import write_parquet

COLUMNS = ["child_id", "need_id", "stage", "start", "end", "outcome", "team", "worker", "attributes"]


def frame(county: County) -> pd.DataFrame:
    """The event log rows of ``county`` (journeys renamed: attrs -> attributes)."""
    j = county.journeys
    return pd.DataFrame({
        "child_id": j["child_id"], "need_id": j["need_id"], "stage": j["stage"],
        "start": pd.to_datetime(j["start"]).astype("datetime64[ms]"),
        "end": pd.to_datetime(j["end"]).astype("datetime64[ms]"),
        "outcome": j["outcome"], "team": j["team"], "worker": j["worker"], "attributes": j["attrs"],
    })[COLUMNS]


def write(county: County, out_dir: Path, rng: np.random.Generator | None = None) -> list[Path]:
    """Write ``events.parquet`` and ``events.csv`` into ``out_dir``; returns the two paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ev = frame(county)
    pq_path = write_parquet(ev, out_dir / "events.parquet")
    csv_path = out_dir / "events.csv"
    table = pa.Table.from_pandas(ev, preserve_index=False)
    cols = []
    for name in table.column_names:
        col = table[name]
        if name in ("start", "end"):
            midnight = pc.all(pc.equal(pc.cast(col, pa.date32()).cast(pa.timestamp("ms")), col)).as_py()
            col = pc.strftime(col, format="%Y-%m-%d" if midnight in (True, None) else "%Y-%m-%dT%H:%M:%S")
        cols.append(col)
    table = pa.Table.from_arrays(cols, names=table.column_names)
    pacsv.write_csv(table, csv_path, pacsv.WriteOptions(quoting_style="needed"))
    return [pq_path, csv_path]
