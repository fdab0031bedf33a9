"""Gate on claims: every claim's verdict and split in the claims report must equal the
committed expectation in ci/expected-verdicts.json.

    python ci/check_verdicts.py            # after `pytest -n 2`; exit 1 listing each difference
    python ci/check_verdicts.py --update   # rewrite the expectations from the report

The expectation of a claim is its verdict, its seeds, the seeds on which it holds (the split),
the seeds on which its negative control holds too and the seeds on which either run was
inconclusive, so a mixed claim whose split moves, a supported claim that gains a seed, or a
VACUOUS claim whose control passes on other seeds (C3b-binary, C6, F3) is seen.
Any difference fails, in both directions: a supported claim that stops holding, a refuted
claim that starts to hold (news: look before committing it), a claim that left the suite
or a new one nobody has expected yet. ``--update`` writes the report's verdicts, prints
what changed and still exits 1 when anything changed, so an expectation never turns
green unseen: review the diff of ci/expected-verdicts.json and commit it.

Run it on the report of a full run: a run restricted with ``-k`` leaves claims out, and
those show up as missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "claims-report.json"
EXPECTED = ROOT / "ci" / "expected-verdicts.json"
ABOUT = ("Expected verdict and split of every claim (claim id -> verdict, seeds run, seeds on which it "
         "holds, seeds on which its control holds, seeds on which the trained run or the control was "
         "inconclusive), checked by ci/check_verdicts.py against reports/claims-report.json. Regenerate with "
         "`python ci/check_verdicts.py --update` and commit the diff with the reason it changed.")


# What the gate pins beside the verdict: seed lists, each compared exactly.
SPLITS = ("seeds", "holds_on", "inconclusive_on", "control_holds_on", "control_inconclusive_on")
CONTROL_SPLITS = ("inconclusive_on", "control_holds_on", "control_inconclusive_on")  # pinned since issue 26


def _seeds_where(claim: dict, role: str, field: str) -> list[int]:
    """The seeds whose ``role`` run ("trained" or "control") has a true ``field`` ("holds", "inconclusive")."""
    return sorted(int(seed) for seed, runs in claim.get("seeds", {}).items() if (runs.get(role) or {}).get(field))


def expectation(claim: dict) -> dict:
    """What the gate pins of one claim of a claims report."""
    return {"verdict": claim["verdict"], "seeds": sorted(int(s) for s in claim["seeds"]),
            "holds_on": sorted(claim.get("holds_on", [])),
            "inconclusive_on": _seeds_where(claim, "trained", "inconclusive"),
            "control_holds_on": _seeds_where(claim, "control", "holds"),
            "control_inconclusive_on": _seeds_where(claim, "control", "inconclusive")}


def read_report(path: Path) -> dict[str, dict]:
    """claim id -> ``expectation(claim)``, from a claims-report.json."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"error: no claims report at {path}: run `pytest -n 2` first") from None
    except json.JSONDecodeError as e:
        raise SystemExit(f"error: {path} is not valid JSON ({e})") from None
    return {c["claim_id"]: expectation(c) for c in data["claims"]}


def read_expected(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if "claims" not in data:
        raise SystemExit(f"error: {path} has no 'claims' (an older format that pinned verdicts only): "
                         "regenerate it with `python ci/check_verdicts.py --update` after a full run")
    return data["claims"]


def _split(e: dict) -> str:
    text = f"holds on {e['holds_on']} of seeds {e['seeds']}"
    if e.get("control_holds_on"):
        text += f", its control holds on {e['control_holds_on']}"
    if e.get("inconclusive_on"):
        text += f", inconclusive on {e['inconclusive_on']}"
    if e.get("control_inconclusive_on"):
        text += f", control inconclusive on {e['control_inconclusive_on']}"
    return text


def unpinned(expected: dict[str, dict]) -> list[str]:
    """Claims whose expectation predates pinning controls and inconclusive seeds (regenerate it)."""
    return sorted(cid for cid, e in expected.items() if not all(f in e for f in CONTROL_SPLITS))


def differences(expected: dict[str, dict], actual: dict[str, dict]) -> list[str]:
    """One line per claim whose verdict or split differs, sorted by claim id; [] when all agree.
    A field an older expectation lacks (``unpinned``) is not compared."""
    out = []
    for cid in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(cid), actual.get(cid)
        if want is not None:
            want = {k: v for k, v in want.items() if k != "killed_by"}  # the mutations' pin: ci/mutations.py
        if want is not None and got is not None:
            got = {k: v for k, v in got.items() if k in want}  # an older expectation pins less
        if want == got:
            continue
        if got is None:
            out.append(f"{cid}: expected {want['verdict']!r}, but the claim is not in the report "
                       "(removed, renamed, deselected or not collected)")
        elif want is None:
            out.append(f"{cid}: new claim with verdict {got['verdict']!r} ({_split(got)}) has no expectation")
        elif want["verdict"] != got["verdict"]:
            news = " (news: a refuted claim now holds)" if want["verdict"] == "refuted" and got["holds_on"] else ""
            out.append(f"{cid}: expected {want['verdict']!r}, got {got['verdict']!r}{news}; {_split(got)}")
        else:
            out.append(f"{cid}: {got['verdict']}, but the split moved: expected {_split(want)}, got {_split(got)}")
    return out


def write_expected(path: Path, claims: dict[str, dict]) -> None:
    text = json.dumps({"about": ABOUT, "claims": dict(sorted(claims.items()))}, indent=1) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, default=REPORT, help=f"claims report JSON (default {REPORT})")
    parser.add_argument("--expected", type=Path, default=EXPECTED, help=f"expectations (default {EXPECTED})")
    parser.add_argument("--update", action="store_true", help="rewrite the expectations from the report")
    args = parser.parse_args(argv)

    actual = read_report(args.report)
    try:
        expected = read_expected(args.expected)
    except SystemExit:
        if not args.update:
            raise
        expected = {}  # an older format: --update replaces it
    diffs = differences(expected, actual)
    if args.update:  # the verdicts and splits from the report; the kill sets ci/mutations.py pinned stay
        write_expected(args.expected, {cid: e | ({"killed_by": expected[cid]["killed_by"]} if "killed_by" in
                                                 expected.get(cid, {}) else {}) for cid, e in actual.items()})
        if not diffs:
            print(f"{args.expected}: unchanged ({len(actual)} claims)")
            return 0
        print(f"{args.expected}: rewritten; {len(diffs)} claim(s) changed, review and commit:")
        print("\n".join(f"  {d}" for d in diffs))
        return 1
    old = unpinned(expected)
    if old:
        print(f"note: {len(old)} claim expectation(s) in {args.expected} pin no control split or inconclusive "
              "seeds (an older format); pin them with `python ci/check_verdicts.py --update` after a full run")
    if diffs:
        print(f"{len(diffs)} claim verdict(s) or split(s) differ from {args.expected}:")
        print("\n".join(f"  {d}" for d in diffs))
        print("If the change is intended, run `python ci/check_verdicts.py --update` and commit the diff "
              "with its reason.")
        return 1
    print(f"all {len(actual)} claim verdicts and splits as expected in {args.expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
