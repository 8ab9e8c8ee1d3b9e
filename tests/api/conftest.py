"""Fixtures for the service tests: the same tests run on SQLite and on PostgreSQL.

PostgreSQL tests read ALMP_TEST_POSTGRES_URL (a server URL; the run creates and drops its
own database) and are skipped, saying so, when it is unset.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import uuid
import warnings
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.keys import KeyRing, digest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
from fastapi.testclient import TestClient  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
DUL = "lombardia/dote-unica-lavoro"
PERSON = json.loads((REPO / "examples" / "person-dul.json").read_text())
# Facts the 2019 edition also reads, so one person can be replayed under both editions.
PERSON_BOTH = {**PERSON, "income_support_since": None, "police_or_armed_forces": False,
               "command_authorisation": False, "master_enrolled": False}

KEYS = {"evaluate": "test-evaluate-key", "audit": "test-audit-key", "admin": "test-admin-key"}
KEYS_ENV = "; ".join(f"{digest(key)} {role} {role}-tester" for role, key in KEYS.items())
PG_ENV = "ALMP_TEST_POSTGRES_URL"


def headers(role: str | None, **extra) -> dict:
    out = {"X-API-Key": KEYS[role]} if role else {}
    out.update(extra)
    return out


def eligibility_body(person=None, as_of="2014-03-01", version=None, **extra) -> dict:
    body = {"policy": DUL, "as_of": as_of, "person": PERSON if person is None else person, **extra}
    if version is not None:
        body["version"] = version
    return body


# Personal values of the shared test inputs, and the shape of any codice fiscale: none may reach a log line.
PERSONAL_VALUES = sorted({PERSON["birth_date"], PERSON_BOTH["birth_date"]})
CODICE_FISCALE = re.compile(r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is not a leak to report here
            pass


def personal_data_in(lines: list[str], extra: tuple = ()) -> list[str]:
    """The log lines holding a birth date of the test inputs, one of ``extra``, or a codice fiscale."""
    values = [*PERSONAL_VALUES, *extra]
    return [line for line in lines if any(v in line for v in values) or CODICE_FISCALE.search(line)]


@pytest.fixture(autouse=True)
def no_personal_data_in_logs():
    """Every log line of every service test, at INFO and above (SQLAlchemy's statements included), is
    searched for the personal values the tests send: a birth date or a codice fiscale fails the test."""
    handler = _Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) or logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    leaked = personal_data_in(handler.lines)
    if leaked:
        pytest.fail(f"{len(leaked)} log line(s) carry personal data, e.g. {leaked[0][:300]!r}")


@pytest.fixture(scope="session")
def postgres_server_url():
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"almp_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    test_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    from api.store.db import upgrade
    upgrade(test_url)
    yield test_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE decisions, editions, data_keys, read_log, trace_plans"))
        conn.execute(text("UPDATE read_head SET seq = 0, row_hash = :h WHERE id = 1"), {"h": "sha256:" + "0" * 64})
        conn.execute(text("UPDATE chain_head SET seq = 0, row_hash = :h WHERE id = 1"),
                     {"h": "sha256:" + "0" * 64})
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A migrated, empty decision store on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'almp.db'}"
        from api.store.db import upgrade
        upgrade(url)
        return url
    url = request.getfixturevalue("postgres_server_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def keyring():
    return KeyRing(None, KEYS_ENV)


def copy_policies(root: Path) -> Path:
    """National dictionaries plus the two DUL editions the tests use: the service tests do not depend on
    other programmes being written at the same time."""
    shutil.copytree(POLICIES / "national", root / "national")
    target = root / "lombardia" / "dote-unica-lavoro"
    target.mkdir(parents=True)
    for version in ("2013", "2019"):
        shutil.copy(POLICIES / "lombardia" / "dote-unica-lavoro" / f"{version}.yaml", target)
    shutil.copy(POLICIES / "lombardia" / "authority.yaml", root / "lombardia")  # statements' appeal clause
    return root


@pytest.fixture(scope="session")
def api_policies(tmp_path_factory):
    return copy_policies(tmp_path_factory.mktemp("api-policies"))


@pytest.fixture(scope="session")
def registry(api_policies):
    from engine.policy.registry import Registry
    return Registry.load(api_policies)


@pytest.fixture
def make_client(db_url, keyring, registry):
    """make_client(policies=None) -> a TestClient over a fresh app (a 'restart' when called again)."""
    from api.app import create_app
    apps = []

    def make(policies: Path | None = None):
        app = create_app(database_url=db_url, keys=keyring, migrate=False,
                         registry=None if policies else registry, policies=policies)
        client = TestClient(app)
        apps.append(app)
        return client

    yield make
    for app in apps:
        app.state.service.store.close()


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def policy_copy(tmp_path):
    """A private copy of the shipped policies (national facts + DUL), free to edit or delete."""
    return copy_policies(tmp_path / "policies")


def decide(client, person=None, **kw) -> dict:
    response = client.post("/v1/eligibility", json=eligibility_body(person, **kw), headers=headers("evaluate"))
    assert response.status_code == 200, response.text
    return response.json()
