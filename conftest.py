"""Collect the policy test cases beside each edition with almp's pytest plugin."""
pytest_plugins = ["engine.avviso.pytest_plugin"]
