"""The tracked size of trained/ (the committed model store), against its cap:

    python ci/trained_size.py                 # prints the size; exit 1 above 100 MB
    python ci/trained_size.py --limit-mb 80

Sums the sizes of the files git tracks under trained/ at HEAD (what a clone downloads, not
what a working tree holds beside it) and prints them; ``.ci/run`` runs it. The cap is 100 MB
(10^6 bytes): the store is cloned with the repository, and a model costing more belongs in a
release or an external source (``fixtures/external.py``), not in trained/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MB = 100.0  # the cap decided in issue 26 (trained/ was 64 MB then)


def tracked_bytes(repo: Path, folder: str = "trained") -> tuple[int, int]:
    """(bytes, files) that git tracks under ``folder`` at HEAD of ``repo``."""
    listing = subprocess.run(["git", "ls-tree", "-r", "-l", "-z", "HEAD", "--", folder], cwd=repo,
                             capture_output=True, text=True, check=True).stdout
    sizes = [int(entry.split(None, 4)[3]) for entry in listing.split("\0") if entry.strip()]
    return sum(sizes), len(sizes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit-mb", type=float, default=LIMIT_MB, help=f"the cap in MB of 10^6 bytes (default {LIMIT_MB:g})")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    size, files = tracked_bytes(args.repo)
    print(f"trained/: {size / 1e6:.1f} MB tracked in {files} files (limit {args.limit_mb:g} MB)")
    if size > args.limit_mb * 1e6:
        print(f"error: trained/ is {size / 1e6:.1f} MB, above the {args.limit_mb:g} MB cap: move the largest models to "
              "an external source (fixtures/external.py) or drop seeds no claim needs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
