"""Every shell block of README.md runs, as a newcomer would run it, and succeeds.

The blocks run in order in one bash session (``set -eo pipefail``), in a scratch directory
that looks like a fresh checkout after the install step: ``.venv`` is the virtualenv running
these tests (made by the README's own install command; ``.ci/run`` runs that command from
scratch on every supported Python), ``examples/`` and ``policies/`` are the repository's.

Substitutions, the only ones (anything else a block says is run as written):
- the install step ``python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'`` becomes ``true``;
- ``almp serve`` is started in the background on a free port and waited for (until
  ``/v1/health`` answers 200); it is stopped when the next ``almp serve`` starts and at the end;
  ``localhost:8000`` in the blocks points at that port;
- ``curl`` fails on an HTTP error status (``--fail-with-body``), so an example that answers 4xx fails.

A block that cannot run in a test is tagged on the line before its fence with
``<!-- readme-test: skip: <reason> -->``; keep that list tiny (today: the test command itself).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .api.test_http_serve import free_port

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SHELLS = {"sh", "bash", "shell"}
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
SKIP = re.compile(r"<!--\s*readme-test:\s*skip:\s*(\S.*?)\s*-->")
INSTALL = "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'"
# `[... && ][VAR=value ...]almp serve [options] [&] [# comment]`
SERVE = re.compile(r"^(?P<pre>.*?&&\s*)?(?P<cmd>(?:\w+=\S+\s+)*\S*almp serve\b[^#&]*?)\s*&?\s*(?:#.*)?$")

PREAMBLE = r"""
set -eo pipefail
__server=
__stop() {
  if [ -n "$__server" ]; then kill -INT "$__server" 2>/dev/null || true; wait "$__server" 2>/dev/null || true; fi
  __server=
}
trap __stop EXIT
trap 'echo "README.md:$__line: failed (exit $?): $BASH_COMMAND" >&2' ERR
__serve() {  # start `almp serve ...` in the background and wait until it is healthy
  __stop
  env "$@" --port "$ALMP_README_PORT" > serve.log 2>&1 &
  __server=$!
  for _ in $(seq 1 1800); do
    if command curl -sf "localhost:$ALMP_README_PORT/v1/health" > /dev/null; then return 0; fi
    if ! kill -0 "$__server" 2>/dev/null; then cat serve.log >&2; return 1; fi
    sleep 0.2
  done
  echo "almp serve did not become healthy" >&2; return 1
}
curl() { command curl --fail-with-body "$@"; }
"""


def shell_blocks(text: str):
    """(line of the fence, body, skip reason or None) for each sh/bash/shell block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, lang = fence.groups()
        start = i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        if lang in SHELLS:
            before = lines[start - 1] if start > 0 else ""
            skip = SKIP.search(before)
            yield start + 1, "\n".join(body), skip.group(1) if skip else None


def script_for(block: str) -> str:
    """A block with the substitutions above applied (continuation lines joined first)."""
    block = re.sub(r"\\\n", " ", block).replace(INSTALL, "true")
    out = []
    for line in block.splitlines():
        serve = SERVE.match(line.strip())
        if serve:
            line = f"{serve.group('pre') or ''}__serve {serve.group('cmd')}"
        out.append(line.replace("localhost:8000", "localhost:$ALMP_README_PORT")
                   .replace("127.0.0.1:8000", "127.0.0.1:$ALMP_README_PORT"))
    return "\n".join(out)


def test_the_readme_blocks_are_found_and_the_skip_list_is_tiny():
    blocks = list(shell_blocks(README.read_text(encoding="utf-8")))
    skipped = [(line, reason) for line, _, reason in blocks if reason]
    assert len(blocks) >= 4
    assert len(skipped) <= 2, f"README blocks not run by tests: {skipped}"
    assert any("almp serve" in body for _, body, reason in blocks if not reason)
    assert script_for("python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/almp serve  # x") \
        == "true && __serve .venv/bin/almp serve"
    assert script_for("ALMP_DATABASE_URL=sqlite:///x.db almp serve --workers 2 &") \
        == "__serve ALMP_DATABASE_URL=sqlite:///x.db almp serve --workers 2"


def test_every_readme_shell_block_runs(tmp_path):
    if sys.prefix == sys.base_prefix:
        pytest.skip("the README's commands use .venv/bin: run the tests from a virtualenv, as the README says")
    if shutil.which("curl") is None:
        pytest.skip("curl is needed for the README's HTTP examples")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    for name in ("examples", "policies"):
        (tmp_path / name).symlink_to(REPO / name, target_is_directory=True)
    parts = [PREAMBLE]
    for line, body, reason in shell_blocks(README.read_text(encoding="utf-8")):
        if reason is None:
            parts.append(f"__line={line}\n{script_for(body)}\n")
    # a newcomer's environment: none of the test run's ALMP_* settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALMP_")}
    env.update(ALMP_README_PORT=str(free_port()), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(["bash", "-c", "\n".join(parts)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, f"{done.stderr[-4000:]}\n--- stdout ---\n{done.stdout[-2000:]}"
    out = done.stdout
    # what the README promises the examples show
    assert '"eligible":true' in out.replace(" ", "")
    assert '"identical":true' in out.replace(" ", "")
