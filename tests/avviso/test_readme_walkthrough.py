"""The README's officer walkthrough runs as written (bash, on a copy of policies/) and speaks Italian."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- officer-walkthrough -->[^\n]*\n```sh\n(.*?)```", text, re.S)
    assert block, "the README lost its officer walkthrough block"
    return block.group(1)


def test_readme_officer_walkthrough_runs_as_written(tmp_path):
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    env = {k: v for k, v in os.environ.items() if k not in ("ALMP_POLICIES", "ALMP_LANG", "LANGUAGE", "LC_ALL",
                                                            "LC_MESSAGES", "ALMP_DATABASE_URL")}
    env["LANG"] = "C.UTF-8"
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=1200)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "Traceback" not in out
    folder = tmp_path / "policies" / "lombardia" / "dote-unica-lavoro"
    # Italian throughout, edition names instead of ids, it-IT figures
    assert "scritto" in out and "CHECKLIST:" in out
    assert "avviso: da confermare (CHECKLIST)" in out
    assert "Valore massimo di età compiuta (eta_max) passa da 54 anni a 55 anni" in out
    assert "Dote Unica Lavoro – quinta fase (2023) → Dote Unica Lavoro – quinta fase (2025)" in out
    assert re.search(r"dotazione 5\.000\.000,00 €: gli impegni ne usano", out)
    assert "adesione ipotizzata 60%" in out
    assert "pubblicata: Dote Unica Lavoro – quinta fase (2025), atto d.d.u.o. n. 1234 del 20/12/2024" in out
    # the publication record and the relazione tecnica
    record = json.loads((folder / "2025.publication.json").read_text(encoding="utf-8"))
    assert record["act"] == {"number": "d.d.u.o. n. 1234", "date": "2024-12-20"}
    assert record["published_by"] == "Maria Rossi" and record["content_hash"].startswith("sha256:")
    assert "status: published" in (folder / "2025.yaml").read_text(encoding="utf-8")
    html = (folder / "2025.relazione.html").read_text(encoding="utf-8")
    assert "Relazione tecnica" in html and "Persone per fascia" in html and "d.d.u.o. n. 1234" in html
    assert (folder / "2025.relazione.pdf").read_bytes()[:5] == b"%PDF-"
    # a published edition cannot change without a new version
    draft = folder / "2025.yaml"
    draft.write_text(draft.read_text(encoding="utf-8").replace("value: 55,", "value: 56,"), encoding="utf-8")
    again = subprocess.run(["almp", "validate", str(draft)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "policy_published_changed" in again.stderr
