"""Loads the claims plugin (fixtures/plugin.py): claim parametrization, the `subject`
and `record` fixtures, the --device/--retrain/--train-missing options, the report."""

import os
import sys

# Where the environment turns bytecode off (PYTHONDONTWRITEBYTECODE, as many container images do),
# every pytest process would compile the suite's 120 modules and rewrite their assertions anew:
# about 2 s of each process's start. The suite keeps its bytecode beside its sources (__pycache__/,
# ignored by git); MECH_CLAIMS_BYTECODE=0 leaves the environment's choice alone.
if os.environ.get("MECH_CLAIMS_BYTECODE", "1") != "0":
    sys.dont_write_bytecode = False

pytest_plugins = ["fixtures.plugin"]
