"""`almp statement ID` from the database, and `almp eval|cost|claim --statement FILE` (not a decision)."""
from __future__ import annotations

import io
import json

from pypdf import PdfReader

from almp.cli import main

from .conftest import REPO, decide


def test_statement_command_writes_the_pdf_of_a_stored_decision(client, db_url, api_policies, tmp_path, capsys):
    decision_id = decide(client)["decision_id"]
    out = tmp_path / "motivazione.pdf"
    assert main(["statement", decision_id, "--out", str(out), "--database", db_url,
                 "--policies", str(api_policies)]) == 0
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert decision_id in " ".join(text.split()).replace(" ", "") or decision_id[:8] in text
    assert "Motivazione del provvedimento" in text
    said = capsys.readouterr().err
    assert "motivazione scritta in" in said and "statement written" not in said
    size = f"{out.stat().st_size:,}".replace(",", ".")  # it-IT thousands
    assert f"(pdf, {size} byte)" in said


def test_statement_command_json_and_unknown_id(client, db_url, api_policies, capsys):
    decision_id = decide(client)["decision_id"]
    assert main(["statement", decision_id, "--format", "json", "--database", db_url,
                 "--policies", str(api_policies)]) == 0
    statement = json.loads(capsys.readouterr().out)
    assert statement["heading"]["decision_id"] == decision_id and statement["is_decision"]
    assert main(["statement", "no-such-id", "--database", db_url, "--policies", str(api_policies)]) == 2
    assert "nessuna decisione" in capsys.readouterr().err


def test_eval_statement_is_marked_as_not_a_decision(tmp_path, capsys):
    out = tmp_path / "simulazione.html"
    assert main(["eval", "lombardia/dote-unica-lavoro", "--person", str(REPO / "examples" / "person-dul-2019.json"),
                 "--as-of", "2019-06-01", "--statement", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Simulazione – non è un provvedimento" in html and "Identificativo della decisione" not in html
    assert json.loads(capsys.readouterr().out)["eligible"] is True


def test_claim_statement_from_the_cli(tmp_path, capsys):
    claim = {"person": {"employment_status": "unemployed", "unemployed_since": "2017-10-01",
                        "income_support": "naspi", "patto_di_servizio": True, "accordo_ricollocazione_24bis": False,
                        "profiling_index": 0.8},
             "start_date": "2018-06-01", "services": [],
             "outcome": {"contract_type": "open_ended", "start": "2018-10-01", "job_region": "lombardia"}}
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(claim), encoding="utf-8")
    out = tmp_path / "claim.json.html"
    assert main(["claim", "national/assegno-di-ricollocazione", "--claim", str(path), "--statement", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "3.400,00 €" in html and "non è un provvedimento" in html
