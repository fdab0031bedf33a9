"""Reproduction check: retrain the cheap families from scratch into a scratch store, measure
their claims on the retrained models and on the committed ones, and compare.

    python ci/reproduce.py                          # bigram-0l, skip-trigram-1l, induction-2l, all seeds
    python ci/reproduce.py --seeds 0 1 2 --jobs 2 --workdir /tmp/repro

Passes (exit 0) when every claim of those families has the committed verdict on the
retrained models and every figure is within ``--atol + --rtol * |committed|`` of the figure
on the committed models. The default tolerance (10% or 0.01) is for a retrain on another CPU
type, which follows another float32 rounding path through training (see the README,
"Reproducibility"); on the machine that trained the committed checkpoints the retrained
weights are the same bits and every figure is equal. It prints how many weights files are
byte-identical to the committed ones and the largest change per claim.

Measured on 2 cores with ``--jobs 2``, all ten seeds: bigram-0l and skip-trigram-1l 7m20s;
induction-2l about 40 minutes (4-8 CPU minutes a seed). Not part of ``.ci/run``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
from ci.compare_reports import compare, load  # noqa: E402
from fixtures.store import Store, sha256_file  # noqa: E402
from fixtures.zoo import get_spec  # noqa: E402

CHEAP = {"bigram-0l": "claims/test_bigram.py", "skip-trigram-1l": "claims/test_skip_trigram.py",
         "induction-2l": "claims/test_induction.py"}


def run(cmd: list[str]) -> int:
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(CHEAP), choices=list(CHEAP))
    parser.add_argument("--seeds", type=int, nargs="+", help="default: every seed of each model")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at once (default 2)")
    parser.add_argument("--workdir", type=Path, help="where the scratch store and reports go (default: a temp dir)")
    parser.add_argument("--rtol", type=float, default=0.1)
    parser.add_argument("--atol", type=float, default=0.01)
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="reproduce-"))
    scratch = work / "trained"
    seeds = [] if args.seeds is None else ["--seeds", *map(str, args.seeds)]
    if run([sys.executable, "-m", "fixtures.train", *args.models, *seeds, "--retrain", "--jobs", str(args.jobs),
            "--root", str(scratch)]):
        return 1
    identical = total = 0
    for name in args.models:
        spec = get_spec(name)
        for seed in args.seeds if args.seeds is not None else spec.seeds:
            total += 1
            identical += sha256_file(Store(scratch).paths(spec, seed)[0]) == sha256_file(Store().paths(spec, seed)[0])
    files = [CHEAP[m] for m in args.models]
    reports = {}
    for label, store in (("committed", None), ("retrained", scratch)):
        reports[label] = work / label
        run([sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", "-n", "2", "--no-claims-html",
             "--train-missing=none", "--analysis-cache=off", f"--claims-report-dir={reports[label]}",
             *([f"--store={store}"] if store else [])])
    verdicts, figures, worst, _ = compare(load(reports["committed"] / "claims-report.json"),
                                          load(reports["retrained"] / "claims-report.json"), args.rtol, args.atol)
    print(f"\n{identical} of {total} retrained weights files are byte-identical to the committed ones")
    print(f"{len(worst)} claims compared: {len(verdicts)} verdict(s) differ, {len(figures)} figure(s) outside "
          f"atol {args.atol:g} + rtol {args.rtol:g}")
    for line in verdicts + figures:
        print("  " + line)
    for cid, rel in sorted(worst.items(), key=lambda kv: -kv[1]):
        print(f"  largest relative change {rel:.2g}: {cid}")
    print(f"reports: {reports['committed']} and {reports['retrained']}")
    return 1 if verdicts or figures else 0


if __name__ == "__main__":
    sys.exit(main())
