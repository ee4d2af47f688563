"""Ground truth beside the written files: the parameters used, every child and every true stay.

``truth/parameters.yaml``, ``truth/children.parquet``, ``truth/journeys.parquet`` and
``truth/proceedings.parquet``, ``truth/events.csv`` (the dated markers; ``truth/proceedings_links.csv`` is the legal writer's).
Parquet files are written without creation metadata, so the same County gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cscflow.synth.county import County
from cscflow.synth.params import to_yaml


def write_parquet(frame: pd.DataFrame | pa.Table, path: Path) -> Path:
    """Write a Parquet file deterministically (no pandas index, no creator string, zstd)."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd", write_statistics=True,
                   use_dictionary=True)
    return path


def write(county: County, out_dir: Path) -> list[Path]:
    """Write the truth folder of ``county`` under ``out_dir / 'truth'``; returns the paths."""
    folder = Path(out_dir) / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    params = dict(county.parameters)
    params["seed"] = county.seed
    out = [folder / "parameters.yaml"]
    out[0].write_text(to_yaml(params), encoding="utf-8")
    out.append(write_parquet(county.children, folder / "children.parquet"))
    out.append(write_parquet(county.journeys, folder / "journeys.parquet"))
    out.append(write_parquet(county.proceedings, folder / "proceedings.parquet"))
    # dated markers (an inspection...) as a small CSV an analyst can load as the workspace's events table
    markers = county.events.copy()
    markers["date"] = pd.to_datetime(markers["date"]).dt.strftime("%Y-%m-%d")
    out.append(folder / "events.csv")
    markers.to_csv(out[-1], index=False, lineterminator="\n")
    return out
