"""Gate on claims: every claim's verdict and split in the claims report must equal the
committed expectation in ci/expected-verdicts.json.

    python ci/check_verdicts.py            # after `pytest -n 2`; exit 1 listing each difference
    python ci/check_verdicts.py --update   # rewrite the expectations from the report

The expectation of a claim is its verdict, its seeds, and the seeds on which it holds (the
split), so a mixed claim whose split moves, or a supported claim that gains a seed, is seen.
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
         "holds), checked by ci/check_verdicts.py against reports/claims-report.json. Regenerate with "
         "`python ci/check_verdicts.py --update` and commit the diff with the reason it changed.")


def read_report(path: Path) -> dict[str, dict]:
    """claim id -> {"verdict", "seeds", "holds_on"}, from a claims-report.json."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"error: no claims report at {path}: run `pytest -n 2` first") from None
    except json.JSONDecodeError as e:
        raise SystemExit(f"error: {path} is not valid JSON ({e})") from None
    return {c["claim_id"]: {"verdict": c["verdict"], "seeds": [int(s) for s in c["seeds"]],
                            "holds_on": sorted(c.get("holds_on", []))} for c in data["claims"]}


def read_expected(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if "claims" not in data:
        raise SystemExit(f"error: {path} has no 'claims' (an older format that pinned verdicts only): "
                         "regenerate it with `python ci/check_verdicts.py --update` after a full run")
    return data["claims"]


def _split(e: dict) -> str:
    return f"holds on {e['holds_on']} of seeds {e['seeds']}"


def differences(expected: dict[str, dict], actual: dict[str, dict]) -> list[str]:
    """One line per claim whose verdict or split differs, sorted by claim id; [] when all agree."""
    out = []
    for cid in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(cid), actual.get(cid)
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
    if args.update:
        write_expected(args.expected, actual)
        if not diffs:
            print(f"{args.expected}: unchanged ({len(actual)} claims)")
            return 0
        print(f"{args.expected}: rewritten; {len(diffs)} claim(s) changed, review and commit:")
        print("\n".join(f"  {d}" for d in diffs))
        return 1
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
