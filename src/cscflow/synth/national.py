"""All-England volumes: simulate LA by LA and stream to partitioned Parquet in bounded memory.

Each LA is simulated with its own ONS 0-17 population (``data/la_population_2017.csv``) and
written before the next starts: ``events/la=<code>/part-0.parquet``, the legal department's
care-proceedings sheet ``legal/la=<code>/legal_proceedings.xlsx`` (:mod:`cscflow.synth.writers.legal`)
with its link truth ``truth/proceedings_links/la=<code>/proceedings_links.csv``, and
``truth/{children,journeys,proceedings}/la=<code>/part-0.parquet``. Peak memory is that of the
largest LA, not of England. The returns (Annex A, CIN census, SSDA903) are per-LA files of a county's
size; they are not written per LA here (:data:`FORMATS`).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

import numpy as np

from cscflow.synth import truth
from cscflow.synth.params import load_parameters, to_yaml
from cscflow.synth.simulate import simulate
from cscflow.synth.writers import FormatError, events, legal

#: The formats written per LA (the default: both).
FORMATS = ("events", "legal")


def la_populations() -> list[tuple[str, str, int]]:
    """(LA code, name, children aged 0-17) for every LA with a published 2017 estimate."""
    text = resources.files("cscflow.synth").joinpath("data/la_population_2017.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [(r["la"], r["la_name"], int(r["children_0_17"])) for r in rows if r["children_0_17"].isdigit()]


def synthesise_national(seed: int = 0, out_dir: str | Path = "national", *, las: list[str] | None = None,
                        formats: Iterable[str] | None = None,
                        progress: Callable[[str], None] | None = None) -> list[Path]:
    """Simulate every LA (or those in ``las``) and write each LA's files in ``formats`` (default
    :data:`FORMATS`) beside the truth; returns the file paths."""
    fmts = list(FORMATS) if formats is None else list(formats)
    other = [f for f in fmts if f not in FORMATS]
    if other:
        raise FormatError(f"the national preset writes {', '.join(FORMATS)} per LA, not {', '.join(other)}",
                          hint="use --formats events,legal with --preset national, or a county preset for the returns")
    out = Path(out_dir)
    say = progress or (lambda msg: None)
    paths: list[Path] = []
    base = load_parameters("national")
    (out / "truth").mkdir(parents=True, exist_ok=True)
    (out / "truth" / "parameters.yaml").write_text(to_yaml({**base, "seed": seed}), encoding="utf-8")
    paths.append(out / "truth" / "parameters.yaml")
    for i, (la, name, pop) in enumerate(la_populations()):
        if las is not None and la not in las:
            continue
        t0 = time.perf_counter()
        params = load_parameters("national", la=la, population={"children_0_17": pop})
        county = simulate(params, seed * 1000 + i)
        part = f"la={la}"
        for sub, frame in (("children", county.children), ("journeys", county.journeys),
                           ("proceedings", county.proceedings)):
            folder = out / "truth" / sub / part
            folder.mkdir(parents=True, exist_ok=True)
            paths.append(truth.write_parquet(frame, folder / "part-0.parquet"))
        if "events" in fmts:
            folder = out / "events" / part
            folder.mkdir(parents=True, exist_ok=True)
            paths.append(truth.write_parquet(events.frame(county), folder / "part-0.parquet"))
        if "legal" in fmts:  # the sheet's file is named apart by its la= folder (a source is named so)
            folder = out / "legal" / part
            folder.mkdir(parents=True, exist_ok=True)
            paths += legal.write(county, folder, np.random.default_rng([seed, i, 903]),
                                 truth_dir=out / "truth" / "proceedings_links" / part)
        say(f"{la} {name}: {len(county.journeys):,} stays in {time.perf_counter() - t0:.1f} s")
        del county
    return paths
