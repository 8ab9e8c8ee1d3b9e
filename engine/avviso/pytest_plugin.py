"""pytest plugin: collects the policy test cases beside each edition (``policies/**/<version>.tests.yaml``).

Enabled by the repository's root ``conftest.py``; any project can enable it with
``pytest_plugins = ["engine.avviso.pytest_plugin"]``.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest


@lru_cache(maxsize=4)
def _registry(root: str):
    from engine.policy.registry import Registry
    return Registry.load(root)


def pytest_collect_file(parent, file_path: Path):
    if file_path.name.endswith(".tests.yaml"):
        return PolicyCaseFile.from_parent(parent, path=file_path)
    return None


class PolicyCaseFile(pytest.File):
    def collect(self):
        from engine.avviso.policytests import load_cases
        for case, line, policy_id, version in load_cases(self.path):
            yield PolicyCase.from_parent(self, name=f"line{line}: {case['name']}", case=case, line=line,
                                         policy_id=policy_id, version=version)


class PolicyCase(pytest.Item):
    def __init__(self, *, case, line, policy_id, version, **kwargs):
        super().__init__(**kwargs)
        self.case, self.line, self.policy_id, self.version = case, line, policy_id, version

    def runtest(self):
        from engine.decide.durable import DurableBackend
        from engine.policy.registry import find_root
        from engine.avviso.policytests import run_case
        registry = _registry(str(find_root(self.path)))
        failures = run_case(registry, self.case, self.policy_id, self.version, DurableBackend.for_policy)
        if failures:
            raise PolicyCaseFailure(failures)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, PolicyCaseFailure):
            return f"{self.path}:{self.line}: " + "; ".join(excinfo.value.failures)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.line - 1, self.name


class PolicyCaseFailure(Exception):
    def __init__(self, failures):
        super().__init__("; ".join(failures))
        self.failures = failures
