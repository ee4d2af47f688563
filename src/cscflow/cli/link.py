"""``cscflow link WORKSPACE`` and ``cscflow link-files LEFT RIGHT``: record linkage on Splink.

Only counts, pseudonymised ids and probabilities are printed or written: never names or dates of birth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


def _band(value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    try:
        lo, hi = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not LO,HI (two probabilities, e.g. 0.5,0.95)") from None
    return lo, hi


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--threshold", default=0.95, show_default=True, type=float,
              help="Match probability at or above which a legal row is linked.")
@click.option("--review-band", default=None, help="LO,HI: probabilities for clerical review [default: 0.5,THRESHOLD].")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV of source, source_row, proceedings_id, child_id, match_probability, status.")
@click.option("--people", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="The case-management system's person list (child id, surname, forenames, DOB, sex) to load first.")
@click.option("--la", default=None, help="The LA code of --people (a multi-LA workspace holds each LA's list apart).")
@click.option("--import-decisions", "import_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="CSV of clerical decisions (proceedings_id, child_id, accept/reject) to store and apply.")
@click.option("--report", is_flag=True, help="Print the linkage quality report (match rates, linked vs unlinked, "
              "sensitivity to the threshold).")
def link(workspace: str, threshold: float, review_band: str | None, out: Path | None, people: Path | None,
         la: str | None, import_file: Path | None, report: bool) -> None:
    """Link the care-proceedings rows of WORKSPACE to its children and write the `links` table."""
    from cscflow.linkage import link_proceedings, output_frame, write_links
    from cscflow.workspace import Workspace
    from cscflow.workspace.workspace import require_workspace

    require_workspace(workspace)
    with Workspace(workspace) as ws:
        if people is not None:
            n = _load_people(ws, people, la)
            click.echo(f"loaded {n:,} people from {people.name} into the restricted identifiers table", err=True)
        if import_file is not None:
            from cscflow.linkage.decisions import import_decisions

            click.echo(f"stored {import_decisions(ws, import_file):,} decisions from {import_file.name}", err=True)
        result = link_proceedings(ws, threshold=threshold, review_band=_band(review_band))
        written = write_links(ws, result)
        c = result.counts()
        total = sum(c.values())
        click.echo(f"{total:,} legal rows: {c['linked']:,} linked ({c['linked'] / max(1, total):.1%}), "
                   f"{c['review']:,} for review, {c['unlinked']:,} unlinked; {written:,} rows in `links`")
        if out is not None:
            output_frame(result).to_csv(out, index=False, lineterminator="\n")
            click.echo(f"wrote {out}")
        if report:
            _print_report(ws, result)


def _load_people(ws: Any, path: Path, la: str | None = None) -> int:
    from cscflow.linkage.people import load_people

    return load_people(ws, path, la)


def _print_report(ws: Any, result: Any) -> None:
    from cscflow.linkage.quality import report

    rep = report(ws, result)
    click.echo("\nMatch rate by application year, court and final order")
    click.echo(rep["rates"].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    click.echo("\nLinked vs not linked legal rows (tests of difference)")
    click.echo(rep["compare"].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    click.echo("\nSensitivity of the headline figures to the threshold")
    click.echo(rep["sensitivity"].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


@click.command("link-files")
@click.argument("left", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("right", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--id", "id_column", required=True, help="The record id column (in both files).")
@click.option("--field", "fields", multiple=True, required=True,
              help="SOURCE_COLUMN=ROLE, ROLE one of forenames, surname, birth_date, sex, postcode, address, "
                   "locality (other columns named here are compared exactly). Repeat for each field.")
@click.option("--threshold", default=0.95, show_default=True, type=float, help="Lowest match probability kept.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV of left_id, right_id, match_probability.")
def link_files(left: Path, right: Path, id_column: str, fields: tuple[str, ...], threshold: float, out: Path) -> None:
    """Link two lists of people (education, youth justice, health...): one best partner per record."""
    from cscflow.linkage.files import link_two_files, parse_fields

    result = link_two_files(left, right, id_column=id_column, fields=parse_fields(fields), threshold=threshold)
    result.to_csv(out, index=False, lineterminator="\n")
    click.echo(f"{len(result):,} pairs at or above {threshold}; wrote {out}")
