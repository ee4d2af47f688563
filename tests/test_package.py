"""The package imports without optional extras, and the CLI is thin and safe."""

import subprocess
import sys
import textwrap

from click.testing import CliRunner

import cscflow
from cscflow.cli import cli


def test_import_without_pyspark():
    code = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "pyspark" or name.startswith("pyspark."):
                    raise ImportError("pyspark hidden for this test")
        sys.meta_path.insert(0, Block())
        import cscflow, cscflow.workspace, cscflow.model
        assert "pyspark" not in sys.modules
        try:
            import pyspark  # noqa: F401
        except ImportError:
            print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cli_help_and_version():
    runner = CliRunner()
    res = runner.invoke(cli, ["--help"])
    assert res.exit_code == 0 and "cscflow demo" in res.output
    res = runner.invoke(cli, ["--version"])
    assert res.exit_code == 0 and cscflow.__version__ in res.output


def test_cli_error_is_one_line_with_hint(tmp_path):
    res = CliRunner().invoke(cli, ["info", str(tmp_path / "missing")])
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert "no workspace at" in res.output and "Hint:" in res.output


def test_the_demo_folder_points_to_its_workspace(tmp_path):
    """`cscflow demo` writes its workspace to demo-county/workspace: given the folder, the commands say so."""
    from cscflow import Workspace

    folder = tmp_path / "demo-county"
    Workspace(folder / "workspace", la="886").close()
    for cmd in (["forecast", str(folder)], ["stats", str(folder), "leaving-care"], ["map", str(folder), "--out", str(tmp_path / "m.svg")]):
        res = CliRunner().invoke(cli, cmd)
        assert res.exit_code == 1, (cmd, res.output)
        assert f"did you mean {folder / 'workspace'}?" in res.output, (cmd, res.output)


def test_info_reports_counts(workspace):
    path = str(workspace.path)
    workspace.close()
    res = CliRunner().invoke(cli, ["info", path, "--json"])
    assert res.exit_code == 0, res.output
    assert '"episodes": 0' in res.output


def test_help_imports_no_engine():
    """`cscflow --help` stays fast by importing none of the engines (start-up time is measured in bench/)."""
    code = textwrap.dedent(
        """
        import sys
        from cscflow.cli import main
        try:
            main(["--help"])
        except SystemExit:
            pass
        heavy = [m for m in ("pandas", "numpy", "ibis", "duckdb", "pyarrow", "scipy", "plotly") if m in sys.modules]
        print("heavy:", heavy, file=sys.stderr)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "heavy: []" in out.stderr and "Commands:" in out.stdout


def test_python_dash_m_cscflow_is_the_same_command():
    """`python -m cscflow` (no scripts folder on PATH, as on locked-down PCs) runs the same command line."""
    out = subprocess.run([sys.executable, "-m", "cscflow", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Usage: cscflow ") and "Commands:" in out.stdout


def test_output_cut_short_by_its_reader_is_not_a_bug():
    """`cscflow stats WS list | head -1`: when the reader has closed the pipe, the command stops without a
    traceback or a "looks like a bug" line (it printed one: BrokenPipeError reached the last line of defence).
    The read end is closed before the command writes, so that every run meets the closed pipe."""
    p = subprocess.Popen([sys.executable, "-m", "cscflow", "stats", "nowhere", "list"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # the reader has gone
    err = p.stderr.read()
    assert p.wait(timeout=120) == 1
    assert "bug" not in err and "Traceback" not in err and "BrokenPipe" not in err, err
