"""``cscflow synth --from WORKSPACE``: synthetic LA files fitted to a workspace, with fidelity and privacy reports.

:func:`synthesise_from` fits the model (:mod:`cscflow.synth.fitted`), simulates the county, writes it in
the formats LAs hold and ``truth/`` (as ``cscflow synth`` does), then compares it with the original:
``fidelity.csv`` (:mod:`cscflow.synth.fidelity`) and ``privacy.csv`` (:mod:`cscflow.synth.privacy`), each
through disclosure control (registry ``synth-fidelity``, ``synth-privacy``) with its method as ``#`` lines.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from cscflow.synth.county import County
    from cscflow.workspace.protocol import WorkspaceLike


@dataclass
class FittedSynthesis:
    """What :func:`synthesise_from` wrote and found."""

    paths: list[Path]
    fidelity: pd.DataFrame
    privacy: pd.DataFrame
    children: int
    stays: int
    notes: list[str] = field(default_factory=list)


def county_workspace(county: County, path: str | Path) -> WorkspaceLike:
    """A workspace holding ``county``'s true stays and children (no file format in between)."""
    from cscflow import Workspace

    ws = Workspace(path, la=county.la)
    j = county.journeys.reset_index(drop=True)
    ws.write("episodes", pd.DataFrame({
        "episode_id": [f"E{i}" for i in range(len(j))], "child_id": j["child_id"].astype(str), "stage": j["stage"],
        "start": j["start"], "end": j["end"], "outcome": j["outcome"], "need_id": j["need_id"], "team": j["team"],
        "source": "synthetic", "source_row": range(len(j))}), mode="replace")
    k = county.children
    ws.write("children", pd.DataFrame({
        "child_id": k["child_id"].astype(str), "la": county.la, "sex": k["sex"], "ethnicity": k["ethnicity"],
        "birth_month": pd.to_datetime(k["birth_date"]).dt.to_period("M").dt.start_time,
        "disability": k["disability"].astype(bool), "uasc": k["uasc"].astype(bool)}), mode="replace")
    return ws


def _write(table: pd.DataFrame, name: str, path: Path, method: str, window: str) -> Path:
    from cscflow.disclosure import disclose

    disclose(table, name, method=method, window=window).write_csv(path)
    return path


def synthesise_from(workspace: str | Path, seed: int = 0, out_dir: str | Path = "synthetic",
                    formats: Iterable[str] | None = None, pmap: str = "england", holdout: float = 0.2,
                    progress: Callable[[str], None] | None = None) -> FittedSynthesis:
    """Fit, simulate, write ``formats`` (default: all) and the two reports into ``out_dir``."""
    from cscflow import Workspace
    from cscflow.forecast.stays import load_stays
    from cscflow.synth import fidelity as fid
    from cscflow.synth import privacy, truth
    from cscflow.synth.fitted import BURN_IN_YEARS, fit_original, simulate_fitted
    from cscflow.synth.writers import defaults, writer

    say = progress or (lambda msg: None)
    fmts = defaults() if formats is None else list(formats)
    writers = {f: writer(f) for f in fmts}
    from cscflow.workspace.workspace import require_workspace

    require_workspace(workspace)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with Workspace(workspace, read_only=True) as ws, tempfile.TemporaryDirectory() as tmp:
        model, original = fit_original(ws, pmap, holdout=holdout, seed=seed)
        say(f"fitted on {model.n_children_:,} children ({holdout:.0%} held out) in {time.perf_counter() - t0:.1f} s")
        county = simulate_fitted(model, original, seed)
        say(f"simulated {len(county.children):,} children, {len(county.journeys):,} stays")
        paths = truth.write(county, out)
        for i, write in enumerate(writers.values()):
            paths += write(county, out, np.random.default_rng([seed, i, 16]))
        say(f"wrote {', '.join(fmts)}")
        sws = county_workspace(county, Path(tmp) / "synthetic")
        try:
            sst, _, _ = load_stays(sws, pmap, original.origin)
            skids = sws.execute(sws.table("children"))
            fidelity = fid.fidelity((ws, original.stays, original.children), (sws, sst, skids),
                                    original.obs_start, original.origin)
        finally:
            sws.close()
    window = f"stays begun from {original.obs_start.date()} to {original.origin.date()}"
    method = (f"Fitted synthetic data (seed {seed}): {model.method_}, fitted on the workspace without {holdout:.0%} "
              f"of its children (held out for the privacy report), simulated with a {BURN_IN_YEARS}-year burn-in. "
              "Original and synthetic read the same way: stays on the map (a child's consecutive rows at one "
              "station are one stay).")
    paths.append(_write(fidelity, "synth-fidelity", out / "fidelity.csv", method, window))
    priv = privacy.report((original.stays, original.children), (sst, skids), original.holdout, original.stations)
    how = " ".join((privacy.__doc__ or "").split("\n\n")[1].replace("- **", "").replace("**", "").split())
    paths.append(_write(priv, "synth-privacy", out / "privacy.csv", f"{method} {how}", window))
    say(f"reports written in {time.perf_counter() - t0:.1f} s")
    return FittedSynthesis(paths, fidelity, priv, len(county.children), len(county.journeys))


__all__ = ["FittedSynthesis", "county_workspace", "synthesise_from"]
