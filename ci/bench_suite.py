"""Time the whole suite as a user runs it, and say where the time goes:

    python ci/bench_suite.py                 # pytest -n 2, fresh analysis cache (a fresh clone)
    python ci/bench_suite.py --warm-cache    # reuse .claims-cache/ (a second run of the day)
    python ci/bench_suite.py --runs 3        # three runs, the median of each figure
    python ci/bench_suite.py -n 0 -- -k modular   # no xdist; anything after -- goes to pytest

**The profile** (every run): each pytest process (the controller and every xdist worker) loads
this file as a plugin (``-p bench_suite``), which times, without changing what runs: start-up
and imports (from the process's start to ``pytest_configure``), collection, checkpoint loading
and verification (``Store.load``, the external and causal-LM loaders), each analysis computed
(``AnalysisCache._compute``, by analysis name) and each read from disk (``_read``), the claim
runs' own time outside those (per-test overhead and measurements outside analyses), the time the
xdist controller still waits at the end for the imports it began while the workers ran, report
writing (``write_reports``, ``write_html``), and each worker's idle time (its window from the end
of its collection to its last test, less the time its tests took, and the tail it waits after
its last test while the other worker finishes). The table is printed and written as JSON.

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

import pytest

ROOT = Path(__file__).resolve().parent.parent
RSS_DIR = "BENCH_SUITE_RSS_DIR"  # where each pytest process of the run writes its peak RSS


_PROFILE: dict = {}  # this process's timings (the plugin's state; one pytest session per process)


def _process_age() -> float:
    """Seconds since this process started (Linux: /proc), 0 where unknown."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _timed(owner, name: str, bucket: str, by_first_arg: bool = False) -> None:
    """Wrap ``owner.name`` so its seconds add up in ``_PROFILE[bucket]`` (per analysis name when
    ``by_first_arg``: the wrapped method's first argument is the analysis function)."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds = time.perf_counter() - start
            if by_first_arg:
                fn = args[1]
                key = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__qualname__}"
                _PROFILE.setdefault(bucket, {})[key] = _PROFILE.get(bucket, {}).get(key, 0.0) + seconds
            else:
                _PROFILE[bucket] = _PROFILE.get(bucket, 0.0) + seconds
    setattr(owner, name, wrapper)


def pytest_configure(config) -> None:
    if not os.environ.get(RSS_DIR):
        return
    _PROFILE["startup_and_imports"] = _process_age()
    _PROFILE["configured_at"] = time.perf_counter()
    import fixtures.plugin as plugin
    import fixtures.report as report

    _timed(report, "write_reports", "report_writing")
    plugin.write_reports = report.write_reports  # the plugin imported it by name
    if plugin.MEASURING not in sys.modules:  # an xdist controller: it imports the rest while the workers run
        return
    _time_measuring()


def _time_measuring() -> None:
    """Time what a process that measures (or writes the HTML page) runs: checkpoint loading, analyses."""
    import fixtures.analysis_cache as cache
    import fixtures.causal_lm as causal_lm
    import fixtures.external as external
    import fixtures.html_report as html_report
    import fixtures.measuring as measuring
    import fixtures.store as store

    _timed(store.Store, "load", "checkpoint_loading")
    _timed(external, "load_converted", "checkpoint_loading")
    _timed(causal_lm, "load_causal_lm", "checkpoint_loading")
    measuring.load_converted = external.load_converted  # the measuring part imported them by name
    measuring.load_causal_lm = causal_lm.load_causal_lm
    _timed(cache.AnalysisCache, "_compute", "analyses_computed", by_first_arg=True)
    _timed(cache.AnalysisCache, "_read", "analysis_cache_reads")
    _timed(html_report, "write_html", "report_writing")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session):
    # An xdist controller writes the HTML page with the modules it imported while the workers ran:
    # the time it still waits for them, then the page's.
    import fixtures.plugin as plugin

    if os.environ.get(RSS_DIR) and plugin.MEASURING not in sys.modules:
        start = time.perf_counter()
        plugin.report_imports_done()
        _PROFILE["report_imports_wait"] = time.perf_counter() - start
        import fixtures.html_report as html_report

        _timed(html_report, "write_html", "report_writing")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        if os.environ.get(RSS_DIR):
            _PROFILE["collection"] = time.perf_counter() - start
            _PROFILE["collected_at"] = time.perf_counter()


def pytest_runtest_logreport(report) -> None:
    if not os.environ.get(RSS_DIR):
        return
    if hasattr(report, "node"):  # on the controller: a worker's report; when did that worker last report
        last = _PROFILE.setdefault("last_report", {})
        last[report.node.gateway.id] = time.perf_counter()
    else:
        _PROFILE["tests"] = _PROFILE.get("tests", 0.0) + report.duration
        _PROFILE["last_test_at"] = time.perf_counter()


def pytest_unconfigure(config) -> None:
    """Loaded into the timed run with ``-p bench_suite`` (controller and every xdist worker):
    write this process's peak resident memory and its profile to ``$BENCH_SUITE_RSS_DIR``."""
    folder = os.environ.get(RSS_DIR)
    if not folder:
        return
    worker = getattr(config, "workerinput", {}).get("workerid", "controller")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    now = time.perf_counter()
    prof = dict(_PROFILE)
    if worker == "controller":
        prof["tail_idle"] = {w: now - t for w, t in prof.pop("last_report", {}).items()}
    elif "collected_at" in prof:
        prof["idle_between_tests"] = max(0.0, prof.get("last_test_at", now) - prof["collected_at"] - prof.get("tests", 0))
    prof["session"] = now - prof.pop("configured_at", now)
    for k in ("collected_at", "last_test_at"):
        prof.pop(k, None)
    Path(folder, f"{worker}.json").write_text(json.dumps({"process": worker, "peak_rss_mb": peak_kb / 1024,
                                                          "profile": prof}))


def peak_rss(folder: Path) -> dict[str, float]:
    """{process: peak RSS in MB} as written by the run's processes (controller, gw0, gw1, ...)."""
    peaks = (json.loads(f.read_text()) for f in sorted(folder.glob("*.json")))
    return {p["process"]: p["peak_rss_mb"] for p in peaks}


def profiles(folder: Path) -> dict[str, dict]:
    """{process: its profile} as the run's processes wrote them."""
    return {p["process"]: p.get("profile", {}) for p in (json.loads(f.read_text()) for f in sorted(folder.glob("*.json")))}


PHASES = (("startup_and_imports", "start-up and imports (to pytest_configure)"), ("collection", "collection"),
          ("checkpoint_loading", "checkpoint loading and sha256 verification"),
          ("analyses_computed", "analyses computed"), ("analysis_cache_reads", "analysis cache reads"),
          ("claim_overhead", "claim and test runs outside the above"),
          ("report_imports_wait", "waiting for the report's imports (controller)"), ("report_writing", "report writing"),
          ("idle_between_tests", "idle between tests (scheduling, reports)"), ("tail_idle", "idle at the end"),
          ("session", "session (configure to unconfigure)"))


def phase_table(prof: dict[str, dict]) -> dict[str, dict[str, float]]:
    """{phase: {process: seconds}} from the processes' profiles."""
    out: dict[str, dict[str, float]] = {}
    tails = prof.get("controller", {}).get("tail_idle", {})
    for proc, p in prof.items():
        analyses = sum((p.get("analyses_computed") or {}).values())
        row = {k: (p.get(k) if not isinstance(p.get(k), dict) else sum(p[k].values())) for k, _ in PHASES}
        row["analyses_computed"] = analyses
        if "tests" in p:
            row["claim_overhead"] = max(0.0, p["tests"] - analyses - (p.get("checkpoint_loading") or 0)
                                        - (p.get("analysis_cache_reads") or 0))
        row["tail_idle"] = tails.get(proc) if proc != "controller" else None
        for k, v in row.items():
            if v is not None:
                out.setdefault(k, {})[proc] = v
    return out


def print_profile(tables: list[dict[str, dict[str, float]]], computed: list[dict[str, float]]) -> dict:
    """Print the median over runs of every phase per process, and the costliest analyses."""
    procs = sorted({p for t in tables for row in t.values() for p in row}, key=lambda p: (p != "controller", p))
    median = {k: {p: statistics.median([t.get(k, {}).get(p, 0.0) for t in tables]) for p in procs} for k, _ in PHASES}
    print("where the time goes (seconds, median over runs):")
    print("  " + f"{'phase':46s}" + "".join(f"{p:>12s}" for p in procs))
    for k, label in PHASES:
        print("  " + f"{label:46s}" + "".join(f"{median[k][p]:12.1f}" for p in procs))
    names = sorted({n for c in computed for n in c}, key=lambda n: -statistics.median([c.get(n, 0) for c in computed]))
    if names:
        print("analyses computed, seconds summed over processes (median over runs), the costliest:")
        for n in names[:12]:
            print(f"  {statistics.median([c.get(n, 0.0) for c in computed]):7.1f} s  {n}")
    return median


def test_times(junit: Path) -> list[tuple[str, float]]:
    """(test id, seconds) of every test case in a JUnit XML file."""
    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/")
        out.append((f"{path}.py::{case.get('name')}", float(case.get("time") or 0.0)))
    return out


def run_once(args, tmp: Path, index: int) -> dict:
    """One timed pytest run; its wall time, summary line, peak RSS, profile and test times."""
    junit = Path(tmp, f"junit{index}.xml")
    rss_dir = Path(tmp, f"rss{index}")
    rss_dir.mkdir()
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "bench_suite", f"--junitxml={junit}",
           "--train-missing=none", f"--claims-report-dir={Path(tmp, 'reports')}"]
    if args.workers != "0":
        cmd += ["-n", args.workers]
    if not args.warm_cache:
        cmd.append(f"--analysis-cache={Path(tmp, f'analysis-cache{index}')}")
    cmd += args.pytest_args
    print("$", " ".join(cmd), flush=True)
    start = time.perf_counter()
    env = {**os.environ, RSS_DIR: str(rss_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "ci"), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    summary = [ln for ln in proc.stdout.splitlines() if " in " in ln and ("passed" in ln or "failed" in ln)]
    if not junit.exists():
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
    prof = profiles(rss_dir)
    computed: dict[str, float] = {}
    for p in prof.values():
        for n, t in (p.get("analyses_computed") or {}).items():
            computed[n] = computed.get(n, 0.0) + t
    print(f"run {index + 1}: wall {wall:.1f} s ({summary[-1].strip('= ') if summary else 'no summary line'})", flush=True)
    return {"wall": wall, "returncode": proc.returncode, "summary": summary[-1] if summary else "",
            "peaks": peak_rss(rss_dir), "table": phase_table(prof), "computed": computed,
            "times": test_times(junit) if junit.exists() else []}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--workers", default="2", help="pytest-xdist workers (0: no xdist; default 2)")
    parser.add_argument("--warm-cache", action="store_true",
                        help="use the analysis cache in .claims-cache/ (default: a fresh, empty one)")
    parser.add_argument("--runs", type=int, default=1, help="timed runs; figures are their medians (default 1)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        runs = [run_once(args, Path(tmp), i) for i in range(args.runs)]
    walls = [r["wall"] for r in runs]
    print(f"wall time: median {statistics.median(walls):.1f} s of {len(walls)} run(s) "
          f"({', '.join(f'{w:.1f}' for w in walls)}); {runs[-1]['summary'].strip('= ')}")
    peaks = runs[-1]["peaks"]
    if peaks:
        print("peak RSS: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in peaks.items()))
    median = print_profile([r["table"] for r in runs], [r["computed"] for r in runs])
    times = runs[-1]["times"]
    claims = sorted(((t, name) for name, t in times if name.startswith("claims/")), reverse=True)
    machinery = sorted(((t, name) for name, t in times if not name.startswith("claims/")), reverse=True)
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
        for name, t in sorted(per_file.items(), key=lambda kv: -kv[1])[:14]:
            print(f"  {t:7.1f} s  {name}")
    if machinery:
        print(f"machinery tests: {len(machinery)}, sum {sum(t for t, _ in machinery):.1f} s; slowest:")
        for t, name in machinery[:5]:
            print(f"  {t:7.2f} s  {name}")
    if args.json:
        args.json.write_text(json.dumps({"walls": walls, "phases": median, "peaks": peaks,
                                         "computed": runs[-1]["computed"]}, indent=1))
    return max(r["returncode"] for r in runs)


if __name__ == "__main__":
    sys.exit(main())
