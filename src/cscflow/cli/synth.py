"""``cscflow synth``: simulate a county and write it in the formats LAs hold."""

from __future__ import annotations

import time
from pathlib import Path

import click

from cscflow.synth.writers import FORMATS, FormatError


def _formats(value: str | None) -> list[str]:
    if not value or value == "all":
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
@click.option("--formats", default=None, help=f"Comma-separated formats (default: all): {','.join(FORMATS)}.")
def synth(preset: str, seed: int, out: Path, formats: str | None) -> None:
    """Simulate a county and write it in the formats LAs hold, with the truth beside it."""
    from cscflow.synth.run import synthesise

    t0 = time.perf_counter()
    paths = synthesise(preset, seed=seed, out_dir=out, formats=_formats(formats),
                       progress=lambda msg: click.echo(msg, err=True))
    click.echo(f"wrote {len(paths)} files to {out} in {time.perf_counter() - t0:.1f} s")
