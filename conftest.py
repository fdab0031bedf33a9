"""Loads the claims plugin (fixtures/plugin.py): claim parametrization, the `subject`
and `record` fixtures, the --device/--retrain/--train-missing options, the report."""

pytest_plugins = ["fixtures.plugin"]
