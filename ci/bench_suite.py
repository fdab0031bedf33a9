"""Time the whole suite as a user runs it, and say where the time goes:

    python ci/bench_suite.py                 # pytest -n 2, fresh analysis cache (a fresh clone)
    python ci/bench_suite.py --warm-cache    # reuse .claims-cache/ (a second run of the day)
    python ci/bench_suite.py -n 0 -- -k modular   # no xdist; anything after -- goes to pytest

Runs pytest in a subprocess with a JUnit XML report, then prints the wall time, the number
of claim runs (one claim on one seed, trained or control: setup + call + teardown), their
median, mean and maximum seconds, the ten slowest claim runs and the slowest machinery
tests. Checkpoints are never trained here: a missing one fails its claims
(``--train-missing=none``), so the figure is the warm suite. Not a test: timings never gate
anything.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_times(junit: Path) -> list[tuple[str, float]]:
    """(test id, seconds) of every test case in a JUnit XML file."""
    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/")
        out.append((f"{path}.py::{case.get('name')}", float(case.get("time") or 0.0)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--workers", default="2", help="pytest-xdist workers (0: no xdist; default 2)")
    parser.add_argument("--warm-cache", action="store_true",
                        help="use the analysis cache in .claims-cache/ (default: a fresh, empty one)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        junit = Path(tmp, "junit.xml")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
               "--train-missing=none", f"--claims-report-dir={Path(tmp, 'reports')}"]
        if args.workers != "0":
            cmd += ["-n", args.workers]
        if not args.warm_cache:
            cmd.append(f"--analysis-cache={Path(tmp, 'analysis-cache')}")
        cmd += args.pytest_args
        print("$", " ".join(cmd), flush=True)
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        summary = [ln for ln in proc.stdout.splitlines() if " in " in ln and ("passed" in ln or "failed" in ln)]
        if not junit.exists():
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
            return proc.returncode or 1
        times = test_times(junit)
    claims = sorted(((t, name) for name, t in times if name.startswith("claims/")), reverse=True)
    machinery = sorted(((t, name) for name, t in times if not name.startswith("claims/")), reverse=True)
    print(f"wall time: {wall:.1f} s ({summary[-1].strip('= ') if summary else 'no summary line'})")
    if claims:
        secs = [t for t, _ in claims]
        print(f"claim runs: {len(secs)}; seconds per run: median {statistics.median(secs):.3f}, "
              f"mean {statistics.fmean(secs):.3f}, max {max(secs):.2f}; sum {sum(secs):.1f}")
        print("ten slowest claim runs:")
        for t, name in claims[:10]:
            print(f"  {t:7.2f} s  {name}")
    if machinery:
        print(f"machinery tests: {len(machinery)}, sum {sum(t for t, _ in machinery):.1f} s; slowest:")
        for t, name in machinery[:5]:
            print(f"  {t:7.2f} s  {name}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
