"""``cscflow demo``: build the synthetic county once, load it into a workspace and open the map."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

DEFAULT_DIR = Path("demo-county")
PRESET = "county"


def _stamp(preset: str, seed: int, formats: list[str], load: str) -> dict[str, Any]:
    from cscflow import __version__
    from cscflow.model.tables import TABLES

    # the canonical tables too: a demo loaded before a table was added (e.g. reviews) is built again
    return {"preset": preset, "seed": seed, "formats": formats, "load": load, "cscflow": __version__,
            "tables": list(TABLES)}


def build_demo(out: Path, seed: int = 0, *, formats: list[str] | None = None, load: str = "all",
               preset: str = PRESET, echo: Callable[[str], Any] = click.echo) -> Path:
    """Generate (once) and load (once) the demo county under ``out``; returns the workspace folder.

    ``out/files`` holds the written files and ``out/workspace`` the loaded workspace. Both are
    reused when ``out/demo.json`` says they were built with the same preset, seed and formats.
    """
    from cscflow.synth.writers import available

    fmts = formats or available()
    files, ws_dir, stamp_path = out / "files", out / "workspace", out / "demo.json"
    stamp = _stamp(preset, seed, fmts, load)
    if stamp_path.exists() and json.loads(stamp_path.read_text()) == stamp and (ws_dir / "cscflow.duckdb").exists():
        echo(f"using the demo county in {out} (delete the folder to rebuild it)")
        return ws_dir
    for folder in (files, ws_dir):
        if folder.exists():
            shutil.rmtree(folder)
    from cscflow.synth.run import synthesise

    t0 = time.perf_counter()
    echo(f"simulating the {preset} preset (seed {seed}) and writing {', '.join(fmts)} to {files} ...")
    synthesise(preset, seed=seed, out_dir=files, formats=fmts, progress=lambda m: echo(f"  {m}"))
    echo(f"loading into the workspace {ws_dir} ...")
    _load(files, ws_dir, load, echo)
    stamp_path.write_text(json.dumps(stamp, indent=2))
    echo(f"demo county ready in {time.perf_counter() - t0:.0f} s")
    return ws_dir


def _load(files: Path, ws_dir: Path, which: str, echo: Callable[[str], Any]) -> None:
    """Load the event log (``which='events'``) or every written file but events.csv (``'all'``)."""
    import pandas as pd

    from cscflow import Workspace
    from cscflow.journeys.timeline import prepare
    from cscflow.sources import load
    from cscflow.synth.params import load_parameters

    la = str(load_parameters(PRESET)["la"])
    with Workspace(ws_dir, la=la) as ws:
        if which == "all":  # events.csv repeats events.parquet
            paths = [p for p in sorted(files.iterdir()) if p.name not in ("truth", "events.csv", "people.csv")]
        else:
            paths = [files / "events.parquet"]
        load(ws, paths, la=la, progress=lambda msg, done, total: echo(f"  {msg}"))

        prepare(ws)  # the England map's timeline, stored for the app
        if which == "all" and (files / "people.csv").exists() and (files / "legal_proceedings.xlsx").exists():
            _link(ws, files / "people.csv", echo)
        markers = pd.read_csv(files / "truth" / "events.csv", dtype=str)
        markers["date"] = pd.to_datetime(markers["date"]).dt.date
        ws.write("events", markers[["event_id", "date", "label", "kind"]], mode="replace")


def _link(ws: Any, people: Path, echo: Callable[[str], Any]) -> None:
    """Link the legal sheet to the children through the case system's person list, as `cscflow link --people`."""
    from cscflow.linkage import link_proceedings, write_links
    from cscflow.linkage.people import load_people

    t0 = time.perf_counter()
    load_people(ws, people)
    result = link_proceedings(ws)
    write_links(ws, result)
    c = result.counts()
    echo(f"  linked the care-proceedings sheet to the children ({people.name} gives their names): {c['linked']:,} "
         f"linked, {c['review']:,} for review, {c['unlinked']:,} not linked in {time.perf_counter() - t0:.1f} s")


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DIR, show_default=True,
              help="Folder for the demo files and workspace (reused when already built).")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed of the simulation.")
@click.option("--load", "load", type=click.Choice(["events", "all"]), default="all", show_default=True,
              help="Load every file written (Annex A, CIN, 903, legal and the event log: children's "
                   "characteristics come from the returns) or the event log only (quicker, no cohort filters).")
@click.option("--preset", default=PRESET, hidden=True, help="Simulation preset (tests use 'tiny').")
@click.option("--no-serve", is_flag=True, help="Build and load only; print the workspace summary.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port of the local web app.")
@click.option("--open/--no-open", "open_browser", default=True, help="Open the browser when serving.")
def demo(out: Path, seed: int, load: str, preset: str, no_serve: bool, port: int, open_browser: bool) -> None:
    """Build the synthetic county (cached), load it and open it on the map."""
    ws_dir = build_demo(out, seed, load=load, preset=preset)
    if no_serve:
        from cscflow import Workspace

        with Workspace(ws_dir, read_only=True) as ws:
            click.echo(json.dumps(ws.summary(), indent=2, default=str))
        return
    from cscflow.web import serve

    serve(ws_dir, port=port, open_browser=open_browser)
