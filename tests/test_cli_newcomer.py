"""What a newcomer meets at the command line: one-line errors for a database that is missing or
unreachable, and a quiet end when the output pipe closes (``almp eval ... | head``)."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from almp.cli import main

from .api.test_http_serve import free_port

REPO = Path(__file__).resolve().parent.parent


def _almp() -> list[str]:
    script = Path(sys.executable).parent / "almp"
    return [str(script)] if script.exists() else [sys.executable, "-m", "almp.cli"]


def test_a_closed_output_pipe_ends_quietly():
    """The reader is gone before almp writes a byte (almp takes far longer than this to start)."""
    proc = subprocess.Popen(_almp() + ["eval", "lombardia/dote-unica-lavoro", "--person",
                                       str(REPO / "examples" / "person-dul.json"), "--as-of", "2014-03-01"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=600)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert proc.returncode == 141


def _one_error_line(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve"], ["audit", "verify"]])
def test_a_missing_postgresql_database_gets_one_line_saying_how_to_create_it(capsys, command):
    base = os.environ.get("ALMP_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("ALMP_TEST_POSTGRES_URL is not set (a PostgreSQL server is needed)")
    name = f"almp_missing_{uuid.uuid4().hex[:10]}"
    url = make_url(base).set(database=name)
    line = _one_error_line(capsys, command + ["--database", url.render_as_string(hide_password=False)])
    assert line.startswith("errore: ") and f'"{name}" non esiste' in line
    assert f"createdb -h {url.host} -p {url.port or 5432} -U {url.username} {name}" in line


def test_an_unreachable_postgresql_server_gets_one_line(capsys):
    port = free_port()  # nothing listens there
    line = _one_error_line(capsys, ["db", "upgrade", "--database",
                                    f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/almp"])
    assert line.startswith(f"errore: PostgreSQL non raggiungibile su 127.0.0.1:{port}")
    assert "secret" not in line  # the URL is shown without its password


def test_the_database_line_is_english_on_request(capsys):
    port = free_port()
    line = _one_error_line(capsys, ["--lang", "en", "db", "upgrade", "--database",
                                    f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/almp"])
    assert line.startswith(f"error: cannot reach PostgreSQL at 127.0.0.1:{port}")
    assert "secret" not in line
