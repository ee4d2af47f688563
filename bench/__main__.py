"""Run the benchmarks: ``python -m bench [NAME ...]`` (default: all ``bench/bench_*.py``).

Each module has ``main() -> None`` that prints our figure, the baseline's and the ratio.
Record the latest figures in docs/benchmarks.md with the machine and the date.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_")
    )
    for name in names:
        module = importlib.import_module(f"bench.{name if name.startswith('bench_') else 'bench_' + name}")
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        module.main()
        print(f"== {name} done in {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
