"""The repository says only what is true everywhere: no absolute path of one machine in any tracked file,
no front-end error swallowed, no probe for cscflow's own modules as if they might be missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cscflow"

#: An absolute path under a folder that belongs to one machine (a user's home, a scratch or work area), not
#: preceded by anything that makes it part of a URL or a relative path; and a Windows user folder.
MACHINE_PATH = re.compile(
    r"(?<![\w.~/-])/(?:work|home|root|tmp|Users|mnt|srv|opt|var|private|Volumes|scratch|usr|etc)/[^\s\"'`)\]]*"
    r"|\b[A-Za-z]:\\+(?:Users|home)\\", re.IGNORECASE)
#: Paths that are the same on every machine the project supports, and why they are there.
ALLOWED = {
    "/usr/bin/env": "the shebang of the shell scripts",
    "/usr/bin/chromium": "Debian's Chromium, which the browser tests drive (run, tests/browser)",
}


def _tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def machine_paths(text: str) -> list[str]:
    """The absolute machine paths in ``text`` that are not allowed."""
    return [m.group(0) for m in MACHINE_PATH.finditer(text)
            if not any(m.group(0).startswith(ok) for ok in ALLOWED)]


def test_no_absolute_machine_path_in_the_repository():
    found = []
    files = _tracked_files()
    assert len(files) > 100, "git ls-files listed too few files to be this repository"
    for path in files:
        if not path.is_file():  # deleted in the working tree, not yet in a commit
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # binary (parquet, images)
            continue
        for lineno, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{lineno}: {p}" for p in machine_paths(line)]
    assert not found, ("absolute paths of one machine (refer to files relative to the checkout, e.g. "
                       "../shared/data/PROVENANCE.md):\n" + "\n".join(found))


def test_the_path_check_finds_a_machine_path():
    """The check is not vacuous: each machine folder it names is caught, each allowed path passes."""
    for folder in ("work", "home", "root", "tmp", "Users"):
        assert machine_paths(f"see /{folder}/someone/file.md") == [f"/{folder}/someone/file.md"]
    for ok in ALLOWED:
        assert machine_paths(f"#!{ok} bash") == [] and machine_paths(f"at {ok}") == []
    assert machine_paths("../shared/data/PROVENANCE.md, https://example.org/home/a, ~/work/x, src/tmp/y") == []
    assert machine_paths("open C:" + "\\Users\\ann\\data.csv") == ["C:" + "\\Users\\"]


SWALLOWED = re.compile(r"\.catch\(\s*\(\s*\w*\s*\)\s*=>\s*(?:\{\s*\}|undefined|null)\s*\)|catch\s*(?:\(\s*\w*\s*\))?\s*\{\s*\}")


def test_front_end_never_swallows_an_error():
    hits = [f"{js.name}:{n}: {line.strip()}" for js in sorted((SRC / "web" / "static").rglob("*.js"))
            for n, line in enumerate(js.read_text(encoding="utf-8").splitlines(), 1) if SWALLOWED.search(line)]
    assert not hits, "errors swallowed in the front end (show them in the page and log them):\n" + "\n".join(hits)
    assert SWALLOWED.search("import('./x.js').catch(() => {});") and SWALLOWED.search("try { f(); } catch (e) {}")


def test_no_probe_for_cscflow_modules():
    """Every module of cscflow ships with it: no ``find_spec`` or ImportError fallback for its own modules,
    and no ``getattr`` fallback for an attribute the workspace or the web state always has."""
    probe = re.compile(r"find_spec\(|def _available\(|getattr\((?:ws|st|self\.ws|state), ")
    own_import = re.compile(r"^\s*(?:from|import) cscflow\b")
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, 1):
            if probe.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
            if re.match(r"\s*except (?:ImportError|ModuleNotFoundError)", line):
                tried = lines[max(0, n - 4):n - 1]
                if any(own_import.match(t) for t in tried):
                    hits.append(f"{path.relative_to(ROOT)}:{n}: ImportError fallback for a cscflow module")
    assert not hits, "\n".join(hits)


#: The public API mypy holds to its strict settings: the package's exports, the Workspace, the fitters.
PUBLIC_API = ("cscflow", "cscflow.errors", "cscflow.workspace", "cscflow.workspace.workspace",
              "cscflow.analytics.survival", "cscflow.analytics.competing", "cscflow.analytics.funnel",
              "cscflow.analytics.sankey", "cscflow.analytics.incidence", "cscflow.analytics.benchmarking")


def test_mypy_is_strict_for_the_public_api():
    """pyproject.toml: mypy strict, no override relaxes a public-API module, and every module an override
    names exists (a renamed module must leave the lenient list, not linger in it)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True and config["files"] == ["src"]
    modules = {".".join(p.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__")
               for p in SRC.rglob("*.py")}
    for name in PUBLIC_API:
        assert name in modules, name
    for override in config["overrides"]:
        own = [m for m in override["module"] if m.split(".")[0] == "cscflow"]
        assert not set(own) & set(PUBLIC_API), f"a public-API module is relaxed: {override}"
        assert set(own) <= modules, f"no such module: {sorted(set(own) - modules)}"
        if not own:
            assert set(override) == {"module", "ignore_missing_imports"}, override  # third-party stubs only
