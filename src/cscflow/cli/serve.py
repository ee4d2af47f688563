"""``cscflow serve WORKSPACE``: start the local web app (the dynamic map) on a workspace."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@click.option("--map", "map_", default="england", show_default=True,
              help="Process map: england, front_door, auto, or a YAML file.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs --token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--token", default=None, help="Secret every request must carry (required off loopback).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
def serve(workspace: Path, map_: str, host: str, port: int, token: str | None, open_browser: bool) -> None:
    """Start the local web app on WORKSPACE (data never leaves this machine)."""
    from cscflow.web import serve as run

    run(workspace, map=map_, host=host, port=port, token=token, open_browser=open_browser)
