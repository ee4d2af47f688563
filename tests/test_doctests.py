"""Every docstring example in the package runs: the doctests of each module of ``src/cscflow`` are
one test here, so ``./run test`` runs them in its single pytest run (no ``--doctest-modules`` needed).

Doctests never read the third-party fixtures or the network; a module whose import needs an optional
extra (pyspark) that is not installed is skipped.
"""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cscflow"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
OPTIONAL_EXTRAS = ("pyspark",)


def _modules_with_examples() -> list[str]:
    """Dotted names of the package's modules whose source holds a ``>>>`` example (found without importing)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py" or ">>>" not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_the_package_has_doctests():
    """The scan finds the examples (a moved package or a broken scan must not pass by running nothing)."""
    assert len(MODULES) >= 50, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing in OPTIONAL_EXTRAS:
            pytest.skip(f"{name} needs the optional extra {missing!r}")
        raise
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    out = io.StringIO()
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has '>>>' in its source but no doctest was found in it"
    for test in tests:
        runner.run(test, out=out.write)
    if runner.failures:
        pytest.fail(f"{runner.failures} of {runner.tries} doctest examples failed in {name}:\n"
                    f"{out.getvalue()}", pytrace=False)
