"""Readers run side by side: several formats of one load read at the same time, one process per core.

The readers are pure Python (openpyxl/calamine rows, lxml elements, csv cells), so threads would take turns;
processes run side by side. Each other process is a plain ``python -c`` calling :func:`serve` (not
:mod:`multiprocessing`, whose ``spawn`` start re-runs the caller's script: a user's script without the
``if __name__ == "__main__"`` guard would start itself again): it reads a job list as pickle on stdin and
writes the results (or the error raised) as pickle on stdout. This process takes the largest job itself.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

from cscflow.sources.base import ReadResult

Job = tuple[str, list[Path], dict[str, Any]]

#: Seconds of reading per MB of file, by suffix (measured on the county preset: Annex A's workbook, the CIN
#: census XML, SSDA903 CSV), to judge whether another process pays for its start.
SECONDS_PER_MB = {".xlsx": 0.75, ".xlsm": 0.75, ".xml": 0.06, ".csv": 0.55, ".tsv": 0.55, ".txt": 0.55}
START = 0.8  # s: a new process's imports before it reads
WORTH_A_PROCESS = 1.5  # s: the least work another process must be given to be started


def estimate(group: list[Path]) -> float:
    """Estimated seconds to read ``group`` (from the files' sizes).

    >>> estimate([])
    0.0
    """
    return float(sum(SECONDS_PER_MB.get(f.suffix.lower(), 0.05) * f.stat().st_size / 1e6 for f in group
                     if f.is_file()))


def plan(jobs: list[Job], cores: int | None = None, worth: float = WORTH_A_PROCESS,
         start: float = START) -> list[list[int]]:
    """The jobs' indices by process: the first list for this process, one list per other process (none when
    the work does not pay for a process: less than ``worth`` s for one of them). Longest job first, each to the
    process that would finish it first (another process starts ``start`` s late); an event log read by the
    workspace's engine stays here.

    >>> p = Path(__file__)
    >>> plan([("cin", [p], {}), ("903", [p], {"ws": None})], cores=2)
    [[0, 1]]
    """
    cores = max(1, cores if cores is not None else (os.cpu_count() or 1))
    cost = [estimate(group) for _, group, _ in jobs]  # each file's size read once
    here = [i for i, (_, _, options) in enumerate(jobs) if "ws" in options]
    movable = sorted((i for i in range(len(jobs)) if i not in here), key=lambda i: -cost[i])
    bins: list[list[int]] = [list(here)] + [[] for _ in range(min(cores, len(jobs)) - 1)]
    load = [sum(cost[i] for i in here)] + [start] * (len(bins) - 1)
    for i in movable:
        b = min(range(len(bins)), key=load.__getitem__)  # the process that would finish it first
        bins[b].append(i)
        load[b] += cost[i]
    others = [b for b, k in zip(bins[1:], load[1:], strict=True) if b and k - start >= worth]
    if len(others) < len([b for b in bins[1:] if b]):  # a process not worth its start: all here, in order
        return [list(range(len(jobs)))]
    return [sorted(bins[0]), *others]


def read_jobs(jobs: list[Job]) -> list[list[ReadResult]]:
    """Each job's reader results, in this process."""
    from cscflow.sources.load.read import reader

    return [reader(fmt)(group, **options) for fmt, group, options in jobs]


def run(jobs: list[Job], cores: int | None = None, worth: float = WORTH_A_PROCESS,
        start: float = START) -> list[list[ReadResult]]:
    """Each job's reader results in the jobs' order, read by as many processes as pay (see :func:`plan`).
    A reader's error is raised here, as it would be in one process; a process that gives no answer at all (it
    could not start, or was killed) has its part read here."""
    bins = plan(jobs, cores, worth, start)
    if len(bins) == 1:
        return read_jobs(jobs)
    import cscflow

    # the other process imports this cscflow (installed or not) and says nothing on the terminal
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(cscflow.__file__).resolve().parents[1]), *filter(None, [os.environ.get("PYTHONPATH")])])}
    procs = []
    for b in bins[1:]:
        proc = subprocess.Popen([sys.executable, "-c", "from cscflow.sources.load.workers import serve; serve()"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        assert proc.stdin is not None
        try:
            proc.stdin.write(pickle.dumps([jobs[i] for i in b]))
            proc.stdin.close()
        except OSError:  # it ended at once (BrokenPipeError): no answer, its part is read here
            pass
        procs.append(proc)
    out: list[list[ReadResult]] = [[] for _ in jobs]
    try:
        for i, got in zip(bins[0], read_jobs([jobs[i] for i in bins[0]]), strict=True):
            out[i] = got
        for b, proc in zip(bins[1:], procs, strict=True):
            assert proc.stdout is not None
            data = proc.stdout.read()
            proc.wait()
            value: Any
            if not data:  # the process could not start or died (no answer): read its part here
                status, value = "ok", read_jobs([jobs[i] for i in b])
            else:
                status, value = pickle.loads(data)
            if status == "error":
                raise value
            for i, got in zip(b, value, strict=True):
                out[i] = got
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return out


def serve() -> None:
    """Another process's part: the jobs (pickle on stdin) read, the results or the error (pickle on stdout)."""
    jobs = pickle.loads(sys.stdin.buffer.read())
    try:
        answer: tuple[str, Any] = ("ok", read_jobs(jobs))
    except BaseException as exc:  # noqa: BLE001 - raised again in the process that asked
        try:
            pickle.dumps(exc)
            answer = ("error", exc)
        except Exception:  # noqa: BLE001 - an error that cannot be pickled goes back as its text
            answer = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()

