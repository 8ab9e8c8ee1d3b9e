"""Each request is answered in its own language: Italian by default, English on request.

The language is chosen per request (``api.language``: the ``lang`` query field, else
Accept-Language by its q values) and kept in a context variable, so requests in different
languages handled at once cannot swap; error codes stay English identifiers either way.
"""
from __future__ import annotations

import asyncio

import httpx
import pytest

from api.language import accepted

from .conftest import PERSON, eligibility_body, headers

BAD_DECIMAL = {**PERSON, "profiling_index": "0,75"}  # an Italian decimal comma: refused, and told why
BAD_DATE = eligibility_body(as_of="01/03/2014")  # refused by the request model (pydantic)


def _post(client, body, lang: str | None = None, **extra):
    more = {"Accept-Language": lang} if lang else {}
    return client.post("/v1/eligibility", json=body, headers=headers("evaluate", **more, **extra))


def _item(response, loc):
    assert response.status_code == 422, response.text
    by_loc = {tuple(item["loc"]): item for item in response.json()["detail"]}
    assert loc in by_loc, by_loc
    return by_loc[loc]


@pytest.mark.parametrize("header, lang", [
    ("en", "en"), ("it", "it"), ("en-GB,en;q=0.9", "en"), ("it-IT,it;q=0.9,en;q=0.8", "it"),
    ("fr-FR, en;q=0.5", "en"), ("it;q=0.3, en;q=0.7", "en"), ("en;q=0.5, it;q=0.5", "en"),
    ("de", None), ("en;q=0", None), ("en;q=0, it", "it"), ("*", "it"), ("en;q=abc, it;q=0.1", "it"),
    ("EN-us", "en"), ("", None), ("en;q=2", None), (" en ; q=0.8 ", "en"),
])
def test_accept_language_is_read_by_its_q_values(header, lang):
    assert accepted(header) == lang


def test_a_decimal_comma_is_refused_saying_how_to_write_it_in_italian_by_default(client):
    item = _item(_post(client, eligibility_body(BAD_DECIMAL)), ("body", "person", "profiling_index"))
    assert item["type"] == "invalid_value"  # the code stays an English identifier
    assert "usare il punto come separatore decimale" in item["msg"]
    assert "0,75, ricevuto" not in item["msg"] and "ricevuto" not in item["msg"]  # the value is not echoed


def test_a_decimal_comma_in_english_on_request(client):
    item = _item(_post(client, eligibility_body(BAD_DECIMAL), "en"), ("body", "person", "profiling_index"))
    assert "a point as the decimal separator" in item["msg"]
    assert "got" not in item["msg"]


def test_a_request_model_422_is_italian_by_default_and_english_on_request(client):
    italian = _item(_post(client, BAD_DATE), ("body", "as_of"))
    english = _item(_post(client, BAD_DATE, "en-GB,en;q=0.9"), ("body", "as_of"))
    assert italian["msg"] == "attesa una data nel formato AAAA-MM-GG"
    assert english["msg"] == "expected a date YYYY-MM-DD"
    assert italian["type"] == english["type"]
    missing = {k: v for k, v in BAD_DATE.items() if k != "policy"}
    assert _item(_post(client, missing, "en"), ("body", "policy"))["msg"] == "field required"
    assert _item(_post(client, missing), ("body", "policy"))["msg"] == "campo obbligatorio"


def test_the_lang_query_field_wins_over_the_header(client):
    response = client.post("/v1/eligibility?lang=en", json=BAD_DATE,
                           headers=headers("evaluate", **{"Accept-Language": "it"}))
    assert _item(response, ("body", "as_of"))["msg"] == "expected a date YYYY-MM-DD"


def test_other_details_follow_the_request_language(client):
    unknown = client.get("/v1/policies/lombardia/no-such-programme")
    assert unknown.status_code == 404 and unknown.json()["detail"].startswith("nessuna politica")
    english = client.get("/v1/policies/lombardia/no-such-programme", headers={"Accept-Language": "en"})
    assert english.json()["detail"].startswith("no policy")
    no_key = client.post("/v1/eligibility", json=eligibility_body(), headers={"Accept-Language": "en"})
    assert no_key.status_code == 401 and no_key.json()["detail"].startswith("an API key is required")
    assert client.post("/v1/eligibility", json=eligibility_body()).json()["detail"].startswith("serve una chiave API")
    wrong_role = client.get("/v1/decisions/x", headers=headers("evaluate"))
    assert wrong_role.status_code == 403 and "non ha il ruolo 'audit'" in wrong_role.json()["detail"]
    unknown_id = "00000000-0000-4000-8000-000000000000"
    none = client.get(f"/v1/decisions/{unknown_id}", headers=headers("audit", **{"Accept-Language": "en"}))
    assert none.status_code == 404 and none.json()["detail"] == f"no decision '{unknown_id}'"
    assert client.get(f"/v1/decisions/{unknown_id}", headers=headers("audit")).json()["detail"] == \
        f"nessuna decisione '{unknown_id}'"


def test_a_body_too_large_says_so_in_the_request_language(client):
    big = b"x" * (1024 * 1024 + 1)
    for lang, words in (("en", "nothing was read or stored"), (None, "nulla è stato letto")):
        response = client.post("/v1/eligibility", content=big, headers=headers(
            "evaluate", **{"Content-Type": "application/json", **({"Accept-Language": lang} if lang else {})}))
        assert response.status_code == 413 and words in response.json()["detail"]


def test_concurrent_requests_in_two_languages_each_get_their_own(client):
    # Interleaved on one event loop: each request's evaluation waits in a worker thread while the
    # others start, so a language kept per process (not per request) would reach the wrong answers.
    async def run():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://almp.test") as http:
            asks = [("it", "en")[i % 2] for i in range(24)]
            bodies = [eligibility_body(BAD_DECIMAL) if i % 3 else BAD_DATE for i in range(24)]
            answers = await asyncio.gather(*(
                http.post("/v1/eligibility", json=body, headers=headers("evaluate", **{"Accept-Language": lang}))
                for lang, body in zip(asks, bodies)))
        return list(zip(asks, answers))
    for lang, response in asyncio.run(run()):
        assert response.status_code == 422, response.text
        text = " ".join(item["msg"] for item in response.json()["detail"])
        if lang == "en":
            assert "expected" in text and "atteso" not in text and "attesa" not in text, text
        else:
            assert ("atteso" in text or "attesa" in text) and "expected" not in text, text


def test_the_openapi_documents_the_language_header(client):
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/v1/eligibility"]["post"]
    (param,) = [p for p in operation["parameters"] if p["name"] == "Accept-Language"]
    assert param["in"] == "header" and not param.get("required")
    assert "`en`" in param["description"]


def test_a_statement_follows_accept_language_unless_lang_is_given(client):
    from .conftest import decide
    decision_id = decide(client)["decision_id"]
    url = f"/v1/decisions/{decision_id}/statement"
    english = client.get(url, headers=headers("audit", **{"Accept-Language": "en"}))
    assert english.status_code == 200 and english.json()["lang"] == "en"
    assert english.headers["content-language"] == "en"
    assert client.get(url, headers=headers("audit")).json()["lang"] == "it"
    pinned = client.get(url + "?lang=it", headers=headers("audit", **{"Accept-Language": "en"}))
    assert pinned.json()["lang"] == "it"


def test_each_batch_line_is_answered_in_the_request_language(client):
    import json
    line = json.dumps(BAD_DATE) + "\n" + "{not json\n"
    for lang, words in (("en", ["expected a date YYYY-MM-DD", "invalid JSON at column 2"]),
                        (None, ["attesa una data nel formato AAAA-MM-GG", "JSON non valido alla colonna 2"])):
        more = {"Accept-Language": lang} if lang else {}
        response = client.post("/v1/eligibility/batch", content=line.encode(),
                               headers=headers("evaluate", **{"Content-Type": "application/x-ndjson", **more}))
        assert response.status_code == 200
        answers = [json.loads(text) for text in response.text.splitlines()]
        assert [a["detail"][0]["msg"] for a in answers] == words


def test_a_validator_of_almp_speaks_the_request_language(client):
    body = {"why": "prot. 1"}  # neither subject nor codice_fiscale
    italian = client.post("/v1/subjects/erase", json=body, headers=headers("admin"))
    english = client.post("/v1/subjects/erase", json=body, headers=headers("admin", **{"Accept-Language": "en"}))
    assert _item(italian, ("body",))["msg"] == "indicare esattamente uno tra subject e codice_fiscale"
    assert _item(english, ("body",))["msg"] == "give exactly one of subject and codice_fiscale"
