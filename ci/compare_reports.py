"""Compare two claims reports figure by figure:

    python ci/compare_reports.py BEFORE.json AFTER.json [--rtol 1e-6] [--atol 1e-9] [-k PATTERN]

For every claim in both reports: the verdict, and every seed's figure on the trained model and
on the control. Prints the claims whose verdict differs, the figures that differ by more than
``atol + rtol * |before|``, and the largest relative change per claim; exits 1 when a verdict
differs or a figure is out of tolerance. Claims in one report only are listed, not counted
as differences (restrict both runs alike, or pass ``-k`` to compare a subset).

Used to check that a change meant to leave figures alone (a faster analysis, a refactor)
did, and by ``ci/reproduce.py`` to compare retrained models with the committed ones.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def load(path: Path) -> dict[str, dict]:
    return {c["claim_id"]: c for c in json.loads(Path(path).read_text())["claims"]}


def figure_pairs(before: dict, after: dict):
    """(seed, role, figure before, figure after) for every run in both claims."""
    for seed, roles in before["seeds"].items():
        for role, run in roles.items():
            other = after["seeds"].get(seed, {}).get(role)
            if other is not None:
                yield seed, role, run.get("figure"), other.get("figure")


def compare(before: dict[str, dict], after: dict[str, dict], rtol: float, atol: float, pattern: str = ""):
    """(verdict lines, figure lines, per-claim max relative change, claims in one report only)."""
    verdicts, figures, worst, only = [], [], {}, []
    for cid in sorted(before.keys() | after.keys()):
        if pattern and pattern not in cid:
            continue
        if cid not in before or cid not in after:
            only.append(f"{cid}: only in {'after' if cid in after else 'before'}")
            continue
        b, a = before[cid], after[cid]
        if b["verdict"] != a["verdict"]:
            verdicts.append(f"{cid}: verdict {b['verdict']!r} -> {a['verdict']!r}")
        for seed, role, x, y in figure_pairs(b, a):
            if x is None or y is None:
                if x != y:
                    figures.append(f"{cid} seed {seed} {role}: {x} -> {y}")
                continue
            same = x == y or (math.isnan(x) and math.isnan(y))
            rel = 0.0 if same else abs(y - x) / max(abs(x), 1e-300)
            worst[cid] = max(worst.get(cid, 0.0), rel)
            if not same and not abs(y - x) <= atol + rtol * abs(x):
                figures.append(f"{cid} seed {seed} {role}: {x:.6g} -> {y:.6g} (relative {rel:.2g})")
    return verdicts, figures, worst, only


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance per figure (default 1e-6)")
    parser.add_argument("--atol", type=float, default=1e-9, help="absolute tolerance per figure (default 1e-9)")
    parser.add_argument("-k", dest="pattern", default="", help="only claims whose id contains this")
    args = parser.parse_args(argv)
    verdicts, figures, worst, only = compare(load(args.before), load(args.after), args.rtol, args.atol, args.pattern)
    moved = {cid: rel for cid, rel in worst.items() if rel > 0}
    print(f"{len(worst)} claims compared; {len(verdicts)} verdict(s) differ; {len(figures)} figure(s) outside "
          f"atol {args.atol:g} + rtol {args.rtol:g}; {len(moved)} claim(s) with any change")
    for line in verdicts + figures + only:
        print("  " + line)
    for cid, rel in sorted(moved.items(), key=lambda kv: -kv[1]):
        print(f"  largest relative change {rel:.2g}: {cid}")
    return 1 if verdicts or figures else 0


if __name__ == "__main__":
    sys.exit(main())
