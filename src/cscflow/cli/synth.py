"""``cscflow synth``: simulate a county and write it in the formats LAs hold."""

from __future__ import annotations

import time
from pathlib import Path

import click

from cscflow.synth.writers import FORMATS, FormatError


def _formats(value: str | None) -> list[str] | None:
    """The formats asked for; None when not given (each preset's default: all, or the national preset's)."""
    if not value:
        return None
    if value == "all":
        return list(FORMATS)
    names = [v.strip() for v in value.split(",") if v.strip()]
    for n in names:
        if n not in FORMATS:
            raise FormatError(f"unknown format {n!r} in --formats", hint=f"use some of {','.join(FORMATS)}")
    return names


@click.command()
@click.option("--preset", default="county", show_default=True,
              help="tiny, county, national, or a parameter YAML file.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same files).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (created if missing).")
@click.option("--formats", default=None, help=f"Comma-separated formats (default: all but people, the case system's "
              f"person list; the national preset: events,legal per LA): {','.join(FORMATS)}.")
@click.option("--from", "from_ws", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Fit the county to this workspace (instead of --preset); writes fidelity.csv and privacy.csv too.")
@click.option("--holdout", default=0.2, show_default=True, type=click.FloatRange(0.05, 0.5),
              help="--from: share of children held out of the fit (the privacy report's comparison).")
def synth(preset: str, seed: int, out: Path, formats: str | None, from_ws: Path | None, holdout: float) -> None:
    """Simulate a county and write it in the formats LAs hold, with the truth beside it."""
    from cscflow.synth.run import synthesise

    t0 = time.perf_counter()
    if from_ws is not None:
        from cscflow.synth.from_workspace import synthesise_from

        r = synthesise_from(from_ws, seed=seed, out_dir=out, formats=_formats(formats), holdout=holdout,
                            progress=lambda msg: click.echo(msg, err=True))
        click.echo(f"wrote {len(r.paths)} files to {out} in {time.perf_counter() - t0:.1f} s "
                   f"({r.children:,} synthetic children); see fidelity.csv and privacy.csv there")
        return
    paths = synthesise(preset, seed=seed, out_dir=out, formats=_formats(formats),
                       progress=lambda msg: click.echo(msg, err=True))
    click.echo(f"wrote {len(paths)} files to {out} in {time.perf_counter() - t0:.1f} s")
