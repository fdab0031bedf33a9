"""Time the whole suite as a user runs it, and say where the time goes:

    python ci/bench_suite.py                 # pytest -n 2, fresh analysis cache (a fresh clone)
    python ci/bench_suite.py --warm-cache    # reuse .claims-cache/ (a second run of the day)
    python ci/bench_suite.py -n 0 -- -k modular   # no xdist; anything after -- goes to pytest

Runs pytest in a subprocess with a JUnit XML report, then prints the wall time, the number
of claim runs (one claim on one seed, trained or control: setup + call + teardown), their
median, mean and maximum seconds, the ten slowest claim runs, the slowest machinery
tests, and the peak resident memory (RSS) of the controller and of every worker. Checkpoints are never trained here: a missing one fails its claims
(``--train-missing=none``), so the figure is the warm suite. Not a test: timings never gate
anything.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RSS_DIR = "BENCH_SUITE_RSS_DIR"  # where each pytest process of the run writes its peak RSS


def pytest_unconfigure(config) -> None:
    """Loaded into the timed run with ``-p bench_suite`` (controller and every xdist worker):
    write this process's peak resident memory to ``$BENCH_SUITE_RSS_DIR``."""
    folder = os.environ.get(RSS_DIR)
    if not folder:
        return
    worker = getattr(config, "workerinput", {}).get("workerid", "controller")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    Path(folder, f"{worker}.json").write_text(json.dumps({"process": worker, "peak_rss_mb": peak_kb / 1024}))


def peak_rss(folder: Path) -> dict[str, float]:
    """{process: peak RSS in MB} as written by the run's processes (controller, gw0, gw1, ...)."""
    peaks = (json.loads(f.read_text()) for f in sorted(folder.glob("*.json")))
    return {p["process"]: p["peak_rss_mb"] for p in peaks}


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
        rss_dir = Path(tmp, "rss")
        rss_dir.mkdir()
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "bench_suite", f"--junitxml={junit}",
               "--train-missing=none", f"--claims-report-dir={Path(tmp, 'reports')}"]
        if args.workers != "0":
            cmd += ["-n", args.workers]
        if not args.warm_cache:
            cmd.append(f"--analysis-cache={Path(tmp, 'analysis-cache')}")
        cmd += args.pytest_args
        print("$", " ".join(cmd), flush=True)
        start = time.perf_counter()
        env = {**os.environ, RSS_DIR: str(rss_dir),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "ci"), os.environ.get("PYTHONPATH")]))}
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
        peaks = peak_rss(rss_dir)
        summary = [ln for ln in proc.stdout.splitlines() if " in " in ln and ("passed" in ln or "failed" in ln)]
        if not junit.exists():
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
            return proc.returncode or 1
        times = test_times(junit)
    claims = sorted(((t, name) for name, t in times if name.startswith("claims/")), reverse=True)
    machinery = sorted(((t, name) for name, t in times if not name.startswith("claims/")), reverse=True)
    print(f"wall time: {wall:.1f} s ({summary[-1].strip('= ') if summary else 'no summary line'})")
    if peaks:
        print("peak RSS: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in peaks.items()))
    if claims:
        secs = [t for t, _ in claims]
        print(f"claim runs: {len(secs)}; seconds per run: median {statistics.median(secs):.3f}, "
              f"mean {statistics.fmean(secs):.3f}, max {max(secs):.2f}; sum {sum(secs):.1f}")
        print("ten slowest claim runs:")
        for t, name in claims[:10]:
            print(f"  {t:7.2f} s  {name}")
    if times:
        per_file: dict[str, float] = {}
        for name, t in times:
            per_file[name.split("::")[0]] = per_file.get(name.split("::")[0], 0.0) + t
        print("seconds per file (summed over workers; fixture set-up counted in the first test that needs it):")
        for name, t in sorted(per_file.items(), key=lambda kv: -kv[1])[:12]:
            print(f"  {t:7.1f} s  {name}")
    if machinery:
        print(f"machinery tests: {len(machinery)}, sum {sum(t for t, _ in machinery):.1f} s; slowest:")
        for t, name in machinery[:5]:
            print(f"  {t:7.2f} s  {name}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
