"""Statements of reasons: for one decision of each kind on each shipped programme, the PDF opens, is
PDF/A (checked on the file itself), and its text holds every fact, condition and amount of the trace.

Expected texts are formatted here with Babel directly (not with almp's formatters), and the trace
comes from the engine, not from the statement under test.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pikepdf
import pytest
import yaml
from babel.dates import format_date
from babel.numbers import format_currency, format_percent
from pypdf import PdfReader

from engine.costs.claims import price_claim
from engine.costs.plans import cost_plan
from engine.decide.backends import ReferenceBackend
from engine.decide.evaluate import evaluate
from engine.statement import build_statement, load_authorities, render, render_html, unstored_record
from engine.statement.model import DecisionRecord

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CREATED = "2024-05-06T09:10:11.000000Z"


def _cases():
    """(policy id, version, kind, as_of, payload): per programme, one case of each kind its tests give."""
    picked = {}
    for path in sorted(POLICIES.glob("*/*/*.tests.yaml"), reverse=True):  # newest edition first
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data.get("cases") or []:
            if case.get("expect", {}).get("error"):
                continue
            for kind, key in (("eligibility", "person"), ("eligibility", "subject"), ("plan", "plan"),
                              ("claim", "claim")):
                if key in case and (data["policy"], kind) not in picked:
                    picked[(data["policy"], kind)] = (data["policy"], str(data["version"]), kind, case["as_of"],
                                                      _plain(case[key]))
    return [picked[k] for k in sorted(picked)]


def _plain(value):
    """YAML test data as JSON input (dates as ISO text, numbers with a fraction as Decimal)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(str(value))
    return value


CASES = _cases()


def _run(policy, kind, payload, as_of):
    backend = ReferenceBackend(policy)
    if kind == "eligibility":
        return evaluate(policy, payload, as_of, backend)
    if kind == "plan":
        return cost_plan(policy, payload, as_of, backend)
    return price_claim(policy, payload, backend)


def _decision(registry, policy_id, version, kind, as_of, payload):
    policy = registry.get(policy_id, version)
    as_of = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(as_of)
    result = json.loads(json.dumps(_run(policy, kind, payload, as_of), default=str))
    record = unstored_record(kind, policy, payload, as_of, result)
    record = DecisionRecord(kind=kind, as_of=as_of, input=record.input, result=result, id="d-" + kind,
                            created_at=CREATED, template_version="1")
    return policy, record


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def assert_pdfa(pdf: bytes):
    """The PDF/A-2 requirements we can check on the file: identification, output intent, embedded fonts,
    no encryption, tagged structure (level A), and XMP metadata."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        meta = doc.open_metadata()
        assert meta.get("pdfaid:part") == "2" and meta.get("pdfaid:conformance") == "A"
        assert not doc.is_encrypted
        assert doc.check_pdf_syntax() == [] and doc.pdf_version <= "1.7"  # PDF/A-2 is PDF 1.7
        assert meta.get("dc:title") and "/ID" in doc.trailer
        intents = doc.Root.OutputIntents
        assert len(intents) >= 1 and intents[0].S == "/GTS_PDFA1" and "/DestOutputProfile" in intents[0]
        assert doc.Root.MarkInfo.Marked is True and "/StructTreeRoot" in doc.Root
        assert "/Lang" in doc.Root
        fonts = 0
        for page in doc.pages:
            for font in (page.Resources.get("/Font") or {}).values():
                fonts += 1
                descendants = font.get("/DescendantFonts")
                target = descendants[0] if descendants is not None else font
                descriptor = target.get("/FontDescriptor")
                assert descriptor is not None and any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), \
                    f"font {target.get('/BaseFont')} is not embedded"
        assert fonts > 0


@pytest.fixture(scope="module")
def authorities():
    return load_authorities(POLICIES)


def test_every_shipped_programme_has_cases_of_each_kind_it_decides(registry):
    programmes = {p.id for p in registry.policies}
    assert {pid for pid, kind in ((c[0], c[2]) for c in CASES) if kind == "eligibility"} == programmes
    with_basket = {p.id for p in registry.policies if p.costs is not None}
    for kind in ("plan", "claim"):
        assert {c[0] for c in CASES if c[2] == kind} == with_basket, kind


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}@{c[1]}-{c[2]}" for c in CASES])
def test_pdf_is_pdfa_and_holds_every_fact_condition_and_amount(registry, authorities, case):
    policy, record = _decision(registry, *case)
    authority = authorities[policy.id.split("/")[0]]
    statement = build_statement(record, policy, authority)
    pdf = render(statement, "pdf")
    assert pdf.startswith(b"%PDF-")
    assert_pdfa(pdf)
    text = _pdf_text(pdf)
    # the trace of eligibility (claims and plans carry none: their eligibility is re-derived)
    trace = record.result.get("trace") or evaluate(policy, record.input.get("person") or
                                                   record.input[record.kind].get("person"),
                                                   _eligibility_day(record), ReferenceBackend(policy))["trace"]
    for entry in trace:
        assert _flat(entry["label"]) in text, entry["rule"]
        for name, value in entry["facts"].items():
            if name == "points":
                continue
            fact = policy.dictionary.facts[name]
            assert _flat(fact.label) in text, name
            assert _expected_value(fact, value) in text, (name, value)
    for amount in _amounts(record.result):
        assert _money(amount) in text, amount
    assert policy.content_hash in text.replace(" ", "") or policy.content_hash[:40] in text.replace(" ", "")
    assert authority.name in text
    assert format_date(dt.date.fromisoformat(CREATED[:10]), "dd/MM/yyyy", locale="it_IT") in text


def _eligibility_day(record):
    claim = record.input.get("claim") or {}
    return dt.date.fromisoformat(claim["start_date"]) if claim.get("start_date") else record.as_of


def _money(amount) -> str:
    return format_currency(Decimal(amount), "EUR", locale="it_IT").replace("\xa0", " ")


def _expected_value(fact, value) -> str:
    if value is None or isinstance(value, bool):
        return ""  # "sì"/"no"/"nessun valore" are too short to locate; their rows are checked by label
    if fact.type.kind == "date":
        return format_date(dt.date.fromisoformat(value), "dd/MM/yyyy", locale="it_IT")
    if fact.type.kind in ("enum", "list"):
        return ""
    if getattr(fact, "unit", None) == "percent":
        return format_percent(Decimal(value), locale="it_IT").replace("\xa0", " ")
    return str(value).replace(".", ",")


def _amounts(result: dict) -> list:
    """Every money amount of a result: dote, benefit, line amounts, totals, instalments."""
    out = []
    benefit = result.get("benefit") or {}
    if benefit.get("amount"):
        out.append(benefit["amount"])
    for key in ("dote", "total", "remaining", "claimed", "payable"):
        if result.get(key) is not None:
            out.append(result[key])
    claimed_outcome = result.get("outcome") if isinstance(result.get("outcome"), dict) else None  # a claim's job
    entries = list(result.get("lines") or []) + ([claimed_outcome] if claimed_outcome else [])
    for entry in entries:
        for key in ("amount", "claimed", "payable"):
            if entry.get(key) is not None:
                out.append(entry[key])
        for reason in entry.get("not_paid") or []:
            if reason.get("amount") is not None:
                out.append(reason["amount"])
        for inst in entry.get("instalments") or []:
            out.append(inst["amount"])
    return out


def test_refusal_is_the_10bis_notice_with_failed_conditions_first_and_a_deadline(registry, authorities):
    person = json.loads((POLICIES.parent / "examples" / "person-dul-2019.json").read_text())
    person["birth_date"] = "1950-01-15"  # 69 at the application date: over 65
    policy, record = _decision(registry, "lombardia/dote-unica-lavoro", "2019", "eligibility", "2019-06-01", person)
    statement = build_statement(record, policy, authorities["lombardia"])
    assert statement["refusal"] and statement["notice"] and statement["appeal"] is None
    first = statement["reasons"][0]
    assert first["rule"] == "eta-massima" and not first["satisfied"]
    assert first["reason"] == "La Dote Unica Lavoro terza fase è rivolta alle persone fino a 65 anni."
    assert all(r["satisfied"] for r in statement["reasons"][1:])
    html = render_html(statement)
    assert "Comunicazione dei motivi ostativi" in html and "art. 10-bis" in html
    assert "entro 10 giorni" in html.lower() or "Entro 10 giorni" in html
    assert "16/05/2024" in html  # received on the decision day (06/05/2024) + 10 days
    assert "69 anni" in html and "non soddisfatto" in html


def test_eligible_decision_has_the_appeal_clause_from_the_authority_file(registry, authorities):
    person = json.loads((POLICIES.parent / "examples" / "person-dul-2019.json").read_text())
    policy, record = _decision(registry, "lombardia/dote-unica-lavoro", "2019", "eligibility", "2019-06-01", person)
    statement = build_statement(record, policy, authorities["lombardia"])
    assert statement["notice"] is None
    remedies = " ".join(statement["appeal"]["remedies"])
    for remedy in authorities["lombardia"].remedies:
        assert remedy.body in remedies and f"{remedy.term_days} giorni" in remedies
    # the configured clause is not confirmed by sources: the statement says so
    assert statement["appeal"]["unconfirmed"] and statement["appeal"]["paragraphs"]


def test_derived_fact_names_its_source_and_the_exact_span(registry, authorities):
    person = json.loads((POLICIES.parent / "examples" / "person-dul-2019.json").read_text())
    person["unemployed_since"] = "2018-11-19"  # to 2019-06-01: 6 months and 13 days
    policy, record = _decision(registry, "lombardia/dote-unica-lavoro", "2019", "eligibility", "2019-06-01", person)
    facts = {f["name"]: f for f in build_statement(record, policy, authorities["lombardia"])["facts"]}
    assert facts["unemployment_months"]["origin"] == "derived"
    assert "6 mesi e 13 giorni" in facts["unemployment_months"]["text"]
    assert "19/11/2018" in facts["unemployment_months"]["origin_text"]
    assert facts["age"]["text"] == "58 anni" and "15/01/1961" in facts["age"]["origin_text"]


def test_unstored_evaluation_is_marked_as_not_a_decision(registry, authorities):
    person = json.loads((POLICIES.parent / "examples" / "person-dul-2019.json").read_text())
    policy = registry.get("lombardia/dote-unica-lavoro", "2019")
    as_of = dt.date(2019, 6, 1)
    result = json.loads(json.dumps(evaluate(policy, person, as_of)))
    statement = build_statement(unstored_record("eligibility", policy, person, as_of, result), policy,
                                authorities["lombardia"])
    assert not statement["is_decision"] and statement["warning"]
    assert "non è un provvedimento" in render_html(statement)
    assert all(row["key"] != "decision_id" for row in statement["heading"]["rows"])


def test_same_decision_same_bytes(registry, authorities):
    person = json.loads((POLICIES.parent / "examples" / "person-dul-2019.json").read_text())
    policy, record = _decision(registry, "lombardia/dote-unica-lavoro", "2019", "eligibility", "2019-06-01", person)
    one = build_statement(record, policy, authorities["lombardia"])
    two = build_statement(record, policy, authorities["lombardia"])
    assert render(one, "html") == render(two, "html") and render(one, "json") == render(two, "json")
    assert render(one, "pdf") == render(two, "pdf")


def test_html_escapes_edition_texts(registry, authorities, policy_tree):
    text = (POLICIES / "lombardia" / "dote-unica-lavoro" / "2019.yaml").read_text(encoding="utf-8")
    text = text.replace("label: Età non superiore a 65 anni alla data della domanda",
                        'label: "<script>alert(1)</script> Età"')
    policy_tree("lombardia/dote-unica-lavoro/2019.yaml", text)
    root = policy_tree.root
    from engine.policy.registry import Registry
    policy = Registry.load(root).get("lombardia/dote-unica-lavoro", "2019")
    person = json.loads((POLICIES.parent / "examples" / "person-dul-2019.json").read_text())
    result = json.loads(json.dumps(evaluate(policy, person, dt.date(2019, 6, 1))))
    html = render_html(build_statement(unstored_record("eligibility", policy, person, dt.date(2019, 6, 1), result),
                                       policy, authorities["lombardia"]))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_english_variant(registry, authorities):
    person = json.loads((POLICIES.parent / "examples" / "person-dul-2019.json").read_text())
    policy, record = _decision(registry, "lombardia/dote-unica-lavoro", "2019", "eligibility", "2019-06-01", person)
    statement = build_statement(record, policy, authorities["lombardia"], lang="en")
    html = render_html(statement)
    assert statement["lang"] == "en" and 'lang="en"' in html and "Facts established" in html
    assert re.search(r"€3,000\.00", html)


def test_facts_read_from_the_codice_fiscale_say_so(registry, authorities):
    person = json.loads((POLICIES.parent / "examples" / "person-dul-2019.json").read_text())
    del person["birth_date"], person["gender"]
    person["codice_fiscale"] = "RSSMRA80A01F205X"  # born 01/01/1980, man
    policy, record = _decision(registry, "lombardia/dote-unica-lavoro", "2019", "eligibility", "2019-06-01", person)
    record = DecisionRecord(kind=record.kind, as_of=record.as_of, input=record.input, result=record.result,
                            id=record.id, created_at=CREATED, template_version="2")
    facts = {f["name"]: f for f in build_statement(record, policy, authorities["lombardia"])["facts"]}
    assert facts["birth_date"]["origin_text"] == "ricavato dal codice fiscale"
    assert facts["birth_date"]["text"] == "01/01/1980" and "01/01/1980" in facts["age"]["origin_text"]
    assert facts["age"]["text"] == "39 anni"
    if "gender" in facts:
        assert facts["gender"]["origin_text"] == "ricavato dal codice fiscale"
    en = {f["name"]: f for f in build_statement(record, policy, authorities["lombardia"], lang="en")["facts"]}
    assert en["birth_date"]["origin_text"] == "derived from the codice fiscale"
    # a stated birth date the code confirms stays declared by the applicant
    person["birth_date"] = "1980-01-01"
    policy, record = _decision(registry, "lombardia/dote-unica-lavoro", "2019", "eligibility", "2019-06-01", person)
    record = DecisionRecord(kind=record.kind, as_of=record.as_of, input=record.input, result=record.result,
                            id=record.id, created_at=CREATED, template_version="2")
    facts = {f["name"]: f for f in build_statement(record, policy, authorities["lombardia"])["facts"]}
    assert facts["birth_date"]["origin_text"] == "dichiarato dal richiedente"
