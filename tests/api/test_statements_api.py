"""GET /v1/decisions/{id}/statement: formats by Accept or ?format, precise errors, replay-safe basis, reads logged."""
from __future__ import annotations

import io
import json
import zipfile

from pypdf import PdfReader
from sqlalchemy import create_engine, text

from .conftest import PERSON, PERSON_BOTH, decide, headers


def get(client, decision_id, role="audit", accept=None, **params):
    extra = {"Accept": accept} if accept else {}
    return client.get(f"/v1/decisions/{decision_id}/statement", params=params, headers=headers(role, **extra))


def test_json_statement_of_a_stored_decision(client):
    decision = decide(client)
    response = get(client, decision["decision_id"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    st = response.json()
    assert st["format"] == "almp-statement/1" and st["is_decision"] and st["template_recorded"]
    assert st["heading"]["decision_id"] == decision["decision_id"]
    assert st["heading"]["content_hash"] == decision["policy"]["content_hash"]
    assert st["heading"]["authority"] == "Regione Lombardia"
    assert any("Tribunale Amministrativo Regionale per la Lombardia" in r for r in st["appeal"]["remedies"])
    band = decision["band"]
    assert any(b["id"] == band["id"] and b["satisfied"] for b in st["bands"])
    assert {f["name"] for f in st["facts"]} >= {"birth_date", "age"}


def test_content_negotiation_and_format_parameter(client):
    decision_id = decide(client)["decision_id"]
    html = get(client, decision_id, accept="text/html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert '<html lang="it">' in html.text and "Motivazione del provvedimento" in html.text
    pdf = get(client, decision_id, accept="application/pdf;q=0.9, text/plain")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert "attachment" in pdf.headers["content-disposition"]
    assert "Fatti accertati" in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    odt = get(client, decision_id, format="odt", accept="text/html")
    assert odt.headers["content-type"] == "application/vnd.oasis.opendocument.text"
    with zipfile.ZipFile(io.BytesIO(odt.content)) as archive:
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.text"
        assert "Ragioni giuridiche".encode() in archive.read("content.xml")
        assert "Protocollo n.".encode() in archive.read("content.xml")
    anything = get(client, decision_id, accept="*/*")
    assert anything.headers["content-type"].startswith("application/json")


def test_precise_errors(client):
    decision_id = decide(client)["decision_id"]
    assert get(client, decision_id, accept="image/png").status_code == 406
    assert "application/pdf" in get(client, decision_id, accept="image/png").json()["detail"]
    bad = get(client, decision_id, format="docx")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "format"]
    assert get(client, decision_id, lang="fr").status_code == 422
    assert get(client, decision_id, compare="../x").status_code == 422
    assert get(client, "no-such-decision").status_code == 404
    assert get(client, decision_id, compare="1999").status_code == 404
    assert get(client, decision_id, role="evaluate").status_code == 403
    assert get(client, decision_id, role=None).status_code == 401


def test_english_on_request(client):
    decision_id = decide(client)["decision_id"]
    st = get(client, decision_id, lang="en").json()
    assert st["lang"] == "en" and st["title"] == "Statement of reasons"
    assert get(client, decision_id, lang="en", format="html").headers["content-language"] == "en"


def test_comparison_with_another_edition(client):
    decision_id = decide(client, PERSON_BOTH)["decision_id"]
    st = get(client, decision_id, compare="2019").json()
    assert st["comparison"]["version"] == "2019"
    assert "Con l'edizione «Dote Unica Lavoro – terza fase (2019)»" in st["comparison"]["text"]
    # the stored decision's own outcome is unchanged by the comparison
    assert st["heading"]["version"] == "2013"


def test_comparison_when_the_stored_input_lacks_facts_that_do_not_matter(client):
    # PERSON lacks facts the 2019 edition reads (master_enrolled, ...), but being unemployed in
    # Lombardia already settles the 2019 admission: the comparison gives a full outcome
    decision_id = decide(client, PERSON)["decision_id"]
    st = get(client, decision_id, compare="2019").json()
    assert st["comparison"]["text"].endswith("l'esito sarebbe stato:")
    assert any(item["text"] == "sì" for item in st["comparison"]["items"])


def test_comparison_when_the_stored_input_lacks_a_deciding_fact(client):
    # inactive: only the 2019 edition's other admissions (master, police with authorisation) could admit
    # her, and the stored input does not say whether she is enrolled in a master
    inactive = {**PERSON, "employment_status": "inactive", "unemployed_since": None}
    decision_id = decide(client, inactive)["decision_id"]
    st = get(client, decision_id, compare="2019").json()
    assert "non potrebbe essere valutata" in st["comparison"]["text"]
    assert "person.master_enrolled" in st["comparison"]["text"]


def test_statement_is_the_same_text_whenever_produced(client):
    decision_id = decide(client)["decision_id"]
    first = get(client, decision_id, format="html").content
    assert get(client, decision_id, format="html").content == first
    assert get(client, decision_id, format="pdf").content == get(client, decision_id, format="pdf").content


def test_authority_text_is_the_one_recorded_with_the_decision(make_client, policy_copy):
    client = make_client(policy_copy)
    old_id = decide(client)["decision_id"]
    authority = policy_copy / "lombardia" / "authority.yaml"
    authority.write_text(authority.read_text(encoding="utf-8").replace("term_days: 60", "term_days: 45"),
                         encoding="utf-8")
    restarted = make_client(policy_copy)
    new_id = decide(restarted)["decision_id"]
    old = " ".join(get(restarted, old_id).json()["appeal"]["remedies"])
    new = " ".join(get(restarted, new_id).json()["appeal"]["remedies"])
    assert "entro 60 giorni" in old and "entro 45 giorni" not in old
    assert "entro 45 giorni" in new


def test_decision_stored_before_statements_says_the_template_was_not_recorded(client, db_url):
    decision_id = decide(client)["decision_id"]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE decisions SET statement_basis = NULL WHERE id = :id"), {"id": decision_id})
    engine.dispose()
    st = get(client, decision_id).json()
    assert st["template_recorded"] is False and st["template_version"] == "2"  # the current one
    assert any(r["key"] == "template" and "non registrato" in r["value"] for r in st["heading"]["rows"])


def test_every_read_is_recorded_in_the_read_log_without_personal_data(client):
    decision_id = decide(client)["decision_id"]
    assert get(client, decision_id, format="html").status_code == 200
    log = client.get("/v1/audit/reads", headers=headers("audit"))
    reads = log.json()["reads"]
    assert [(r["decision_id"], r["action"], r["caller"]) for r in reads] == [
        (decision_id, "statement.html", "audit-tester")]
    assert PERSON["birth_date"] not in log.text


def test_replay_is_still_identical_with_the_statement_basis_recorded(client):
    decision_id = decide(client)["decision_id"]
    report = client.post(f"/v1/decisions/{decision_id}/replay", headers=headers("audit")).json()
    assert report["identical"] is True


def test_openapi_documents_the_statement_route(client):
    schema = client.get("/openapi.json").json()
    op = schema["paths"]["/v1/decisions/{decision_id}/statement"]["get"]
    assert set(op["responses"]) >= {"200", "401", "403", "404", "406", "409", "422"}
    assert set(op["responses"]["200"]["content"]) >= {"application/json", "text/html", "application/pdf",
                                                      "application/vnd.oasis.opendocument.text"}
    params = {p["name"] for p in op["parameters"]}
    assert {"format", "lang", "compare"} <= params
