"""Which deliberate defects kill each claim: the suite run once per mutation (fixtures/mutation.py),
each report compared with the unmutated run's, claim by claim.

    python ci/mutations.py                 # after `pytest -n 2`: runs init, shuffle, noop; checks the pins
    python ci/mutations.py --update        # pin each claim's kill set in ci/expected-verdicts.json
    python ci/mutations.py --kinds noop    # one mutation (its kill sets are compared for it alone)

A mutation *kills* a claim when it changes the claim's verdict or moves any of its figures (trained
or control) by more than ``atol + rtol * |figure|`` (1e-9 + 1e-6, as ``ci/compare_reports.py``; a
figure that becomes or stops being finite moves). A claim that no mutation kills reads the same
whatever the weights and whatever the interventions do: it is *decided by construction*, and the
report counts it VACUOUS (``fixtures/report.py`` reads the pinned kill sets). Each claim's kill set
is pinned beside its verdict in ``ci/expected-verdicts.json``; a change that makes a claim
insensitive to a mutation that used to kill it (or the reverse) fails this script, like a verdict
change fails ``ci/check_verdicts.py``. Writes ``reports/mutations/<kind>/claims-report.json`` and
``reports/mutations/kills.md``.

Cost: each mutation is one more `pytest -n 2` over claims/ (the machinery's own tests test no claim)
with the HTML page off. Each
mutation keeps its own analysis-cache entries (a second mutation run serves them), apart from the
unmutated run's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_verdicts import EXPECTED, REPORT, read_expected, write_expected  # noqa: E402
from compare_reports import compare, load  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("init", "shuffle", "noop")
OUT = ROOT / "reports" / "mutations"
RTOL, ATOL = 1e-6, 1e-9


def run(kind: str, jobs: int, extra: list[str]) -> tuple[Path, float]:
    """Run the suite under one mutation; (its report, seconds)."""
    directory = OUT / kind
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--mutate={kind}", "--no-claims-html",
           f"--claims-report-dir={directory}", "-o", "addopts=", *(["-n", str(jobs)] if jobs > 1 else []), *(extra or ["claims"])]
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    report = directory / "claims-report.json"
    if not report.exists():
        tail = "\n".join((out.stdout + out.stderr).splitlines()[-20:])
        raise SystemExit(f"error: the {kind} mutation run wrote no report (exit {out.returncode}):\n{tail}")
    return report, seconds


def kills(baseline: dict, mutant: dict) -> dict[str, dict]:
    """claim id -> {"killed": bool, "verdict": the mutant's verdict, "moved": figures moved}."""
    out = {}
    for cid, before in baseline.items():
        after = mutant.get(cid)
        if after is None:
            out[cid] = {"killed": True, "verdict": "missing", "moved": 0}
            continue
        # The verdicts the runs give, before the pinned kill sets (a claim pinned as decided by
        # construction reads VACUOUS unmutated, and would be "killed" by every mutation for that alone).
        before, after = ({**c, "verdict": c.get("measured_verdict", c["verdict"])} for c in (before, after))
        verdicts, figures, _, _ = compare({cid: before}, {cid: after}, RTOL, ATOL)
        out[cid] = {"killed": bool(verdicts or figures), "verdict": after["verdict"], "moved": len(figures)}
    return out


def table(baseline: dict, per_kind: dict[str, dict], kinds: list[str]) -> str:
    lines = ["| claim | verdict | " + " | ".join(kinds) + " | killed by |", "|---|---|" + "---|" * len(kinds) + "---|"]
    for cid, c in baseline.items():
        cells = [f"{per_kind[k][cid]['verdict']} ({per_kind[k][cid]['moved']} moved)"
                 if per_kind[k][cid]["killed"] else "survives" for k in kinds]
        killed = [k for k in kinds if per_kind[k][cid]["killed"]]
        lines.append(f"| `{cid}` | {c['verdict']} | " + " | ".join(cells)
                     + f" | {', '.join(killed) or '**none: decided by construction**'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--jobs", type=int, default=2, help="pytest-xdist workers per run (default 2)")
    parser.add_argument("--baseline", type=Path, default=REPORT, help=f"the unmutated run's report (default {REPORT})")
    parser.add_argument("--update", action="store_true", help="pin the kill sets in ci/expected-verdicts.json")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (e.g. a claim file to restrict to)")
    args = parser.parse_args(argv)
    if not args.baseline.exists():
        raise SystemExit(f"error: no unmutated report at {args.baseline}: run `pytest -n 2` first")
    baseline = load(args.baseline)
    per_kind = {}
    for kind in args.kinds:
        report, seconds = run(kind, args.jobs, args.pytest_args)
        per_kind[kind] = kills(baseline, load(report))
        print(f"mutation {kind}: {sum(k['killed'] for k in per_kind[kind].values())} of {len(baseline)} claims "
              f"killed ({seconds:.0f} s)", flush=True)
    found = {cid: sorted(k for k in args.kinds if per_kind[k][cid]["killed"]) for cid in baseline}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "kills.md").write_text("# Mutations\n\n" + table(baseline, per_kind, args.kinds))
    (OUT / "kills.json").write_text(json.dumps({"kinds": args.kinds, "killed_by": found,
                                                "runs": per_kind}, indent=1) + "\n")
    unkilled = [cid for cid, ks in found.items() if not ks]
    print(f"{len(unkilled)} claim(s) no mutation kills (decided by construction): {', '.join(unkilled) or 'none'}")
    expected = read_expected(EXPECTED)
    pinned = {cid: [k for k in e.get("killed_by", []) if k in args.kinds] for cid, e in expected.items()
              if "killed_by" in e}
    diffs = [f"{cid}: killed by {found[cid] or 'nothing'}, pinned {pinned.get(cid, 'nothing (never pinned)')}"
             for cid in found if pinned.get(cid) != found[cid]]
    if args.update:
        for cid, ks in found.items():
            if cid in expected:
                old = [k for k in expected[cid].get("killed_by", []) if k not in args.kinds]
                expected[cid]["killed_by"] = sorted(old + ks)
        write_expected(EXPECTED, expected)
        print(f"{EXPECTED}: kill sets pinned; {len(diffs)} changed" + (", review and commit" if diffs else ""))
        return 1 if diffs else 0
    if diffs:
        print(f"{len(diffs)} kill set(s) differ from {EXPECTED}:\n" + "\n".join(f"  {d}" for d in diffs))
        print("If the change is intended, run `python ci/mutations.py --update` and commit the diff with its reason.")
        return 1
    print(f"every kill set as pinned in {EXPECTED}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
