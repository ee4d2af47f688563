"""Simulate and write: :func:`synthesise` (behind ``cscflow synth``).

>>> import tempfile
>>> paths = synthesise("tiny", seed=1, out_dir=tempfile.mkdtemp(), formats=["events"])
>>> sorted(p.name for p in paths)[:2]
['children.parquet', 'events.csv']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from cscflow.synth import truth
from cscflow.synth.params import load_parameters
from cscflow.synth.simulate import simulate
from cscflow.synth.writers import defaults, writer


def synthesise(preset: str | Path | dict[str, Any] = "county", seed: int = 0, out_dir: str | Path = "synthetic",
               formats: Iterable[str] | None = None, progress: Callable[[str], None] | None = None) -> list[Path]:
    """Simulate a county and write it in ``formats`` (default: all but the person list) plus ``truth/``; returns the
    paths.

    ``preset`` 'national' streams every LA to partitioned Parquet and writes its legal sheet (see
    :mod:`cscflow.synth.national`: ``formats`` default there to events and legal).
    Writers are checked before simulating, so a missing writer fails fast.
    """
    fmts = defaults() if formats is None else list(formats)
    writers = {f: writer(f) for f in fmts}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda msg: None)
    if str(preset) == "national":
        from cscflow.synth.national import synthesise_national

        return synthesise_national(seed=seed, out_dir=out, formats=None if formats is None else fmts, progress=say)
    params = load_parameters(preset)
    t0 = time.perf_counter()
    county = simulate(params, seed)
    say(f"simulated {len(county.children):,} children, {len(county.journeys):,} stays "
        f"in {time.perf_counter() - t0:.1f} s")
    paths = truth.write(county, out)
    for i, (fmt, write) in enumerate(writers.items()):
        t1 = time.perf_counter()
        rng = np.random.default_rng([seed, i, 903])
        paths += write(county, out, rng)
        say(f"wrote {fmt} in {time.perf_counter() - t1:.1f} s")
    return paths
