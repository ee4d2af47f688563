"""The ``cscflow`` command line: a thin layer over the library.

Each subcommand lives in its own module here and is imported only when used,
so ``cscflow --help`` stays fast (it imports click and nothing of the engines: ``python -X importtime``). Errors print one line with a hint and exit 1;
``cscflow --debug ...`` shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

import click

from cscflow.errors import CscflowError

#: command name -> "module:attribute" (modules under cscflow.cli)
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("cscflow.cli.info:info", "Show what a workspace holds (row counts, span, stages)."),
    "synth": ("cscflow.cli.synth:synth", "Simulate a county and write it in the formats LAs hold."),
    "demo": ("cscflow.cli.demo:demo", "Build the synthetic county and open it on the map."),
    "load": ("cscflow.cli.load:load", "Load LA files (Annex A, CIN, 903, events, legal) into a workspace."),
    "quality": ("cscflow.cli.load:quality", "Show the data-quality report of a workspace."),
    "flow": ("cscflow.cli.flow:flow", "Flow tables: stations, conversion, durations, dfg, variants..."),
    "serve": ("cscflow.cli.serve:serve", "Start the local web app on a workspace."),
    "stats": ("cscflow.cli.stats:stats", "Statistics: leaving-care curves, incidence, funnel plots..."),
    "link": ("cscflow.cli.link:link", "Link care-proceedings rows to children (Splink); review band, report."),
    "link-files": ("cscflow.cli.link:link_files", "Link two lists of people: one best partner per record."),
    "practices": ("cscflow.cli.practices:practices", "Key practices: statutory-timescale clocks met, breached, overdue."),
    "report": ("cscflow.cli.report:report", "A self-contained HTML report for boards (disclosure-controlled)."),
    "map": ("cscflow.cli.map:map_still", "A still of the map on a date as SVG or PNG (no browser needed)."),
    "video": ("cscflow.cli.video:video", "The map's animation as an MP4 video (H.264) for slides and browsers."),
    "forecast": ("cscflow.cli.forecast:forecast", "Fit a model of the journeys; forecast demand with intervals."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr = COMMANDS[cmd_name][0].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CscflowError as err:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"Error: {err.message}", err=True, fg="red")
            if err.hint:
                click.echo(f"Hint: {err.hint}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # the reader of the output went away (`cscflow ... | head`): stop quietly
            with contextlib.suppress(OSError, ValueError):  # (an output with no file descriptor: nothing to do)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
            ctx.exit(1)
        except Exception as err:  # the last line of defence: no tracebacks for users
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"Error: {type(err).__name__}: {err}".splitlines()[0], err=True, fg="red")
            click.echo("Hint: this looks like a bug in cscflow; run again with --debug and report it", err=True)
            ctx.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cscflow", prog_name="cscflow")  # looked up only for --version
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """cscflow: how children move through children's social care, on your own machine.

    Data never leaves this computer. Start with `cscflow demo`.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``cscflow`` script."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="cscflow")
