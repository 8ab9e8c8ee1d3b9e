"""Not-found answers and every error answer speak the caller's language and say which one.

Italian by default, English on request (Accept-Language or ``lang=``), from the one catalogue
(``engine/i18n``); ``Content-Language`` names the language of the text on every 4xx and 5xx.
A decision id is said back only when it has a decision id's shape: a codice fiscale or a birth
date sent in its place is never echoed.
"""
from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from almp.cli import main

from .conftest import DUL, KEYS_ENV, eligibility_body, headers

UNKNOWN = str(uuid.UUID(int=0x5EED, version=4))
CODE = "RSSMRA80A01F205X"  # a codice fiscale's shape
BIRTH = "1980-01-01"


@pytest.fixture(scope="module")
def app(tmp_path_factory, registry):
    from api.app import create_app
    from api.keys import KeyRing
    from api.store.db import upgrade
    url = f"sqlite:///{tmp_path_factory.mktemp('errors') / 'almp.db'}"
    upgrade(url)
    app = create_app(database_url=url, keys=KeyRing(None, KEYS_ENV), migrate=False, registry=registry)

    async def boom():
        raise RuntimeError("a bug")
    app.add_api_route("/v1/boom", boom)  # the backstop's 500, as an unexpected failure of a route gets it
    yield app
    app.state.service.store.close()


@pytest.fixture(scope="module")
def http(app):
    return TestClient(app, raise_server_exceptions=False)


def _asking(lang: str | None, role: str | None = "audit") -> dict:
    return headers(role, **({"Accept-Language": lang} if lang else {}))


@pytest.mark.parametrize("lang", [None, "en"])
def test_an_unknown_decision_is_404_in_the_callers_language(http, lang):
    for path in (f"/v1/decisions/{UNKNOWN}", f"/v1/decisions/{UNKNOWN}/statement"):
        response = http.get(path, headers=_asking(lang))
        assert response.status_code == 404, response.text
        detail = response.json()["detail"]
        assert UNKNOWN in detail
        if lang == "en":
            assert detail.startswith("no decision") and response.headers["content-language"] == "en"
        else:
            assert detail.startswith("nessuna decisione") and "no decision" not in detail
            assert response.headers["content-language"] == "it"


@pytest.fixture
def quiet_test_client():
    """The test client logs the URLs it requests (the sender's own side, not the service's): off here,
    where the URL holds what the service must not say back."""
    import logging
    logger = logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.mark.parametrize("lang", [None, "en"])
@pytest.mark.parametrize("sent", [CODE, BIRTH])
def test_personal_data_sent_as_a_decision_id_is_not_said_back(http, quiet_test_client, lang, sent):
    response = http.get(f"/v1/decisions/{sent}", headers=_asking(lang))
    assert response.status_code == 404 and sent not in response.text
    assert response.json()["detail"].startswith("no decision" if lang == "en" else "nessuna decisione")


@pytest.mark.parametrize("lang", [None, "en"])
def test_an_unknown_programme_or_edition_is_404_in_the_callers_language(http, lang):
    unknown = http.post("/v1/eligibility", json=eligibility_body(policy="lombardia/nessuno"),
                        headers=_asking(lang, "evaluate"))
    none_in_force = http.post("/v1/eligibility", json=eligibility_body(as_of="1990-01-01"),
                              headers=_asking(lang, "evaluate"))
    for response in (unknown, none_in_force):
        assert response.status_code == 404, response.text
        assert response.headers["content-language"] == (lang or "it")
    if lang == "en":
        assert unknown.json()["detail"].startswith("no policy 'lombardia/nessuno'")
        assert "is in force on 01/01/1990" in none_in_force.json()["detail"]
    else:
        assert unknown.json()["detail"].startswith("nessuna politica 'lombardia/nessuno'")
        assert f"nessuna edizione di '{DUL}' è in vigore il 01/01/1990" in none_in_force.json()["detail"]
        assert "1990-01-01" not in none_in_force.json()["detail"]  # an Italian reader's date


@pytest.mark.parametrize("lang", [None, "en"])
def test_the_routers_own_answers_are_in_the_callers_language(http, lang):
    missing = http.get("/v1/no-such-thing", headers=_asking(lang))
    wrong_method = http.delete("/v1/eligibility", headers=_asking(lang))
    assert (missing.status_code, wrong_method.status_code) == (404, 405)
    for response in (missing, wrong_method):
        assert response.headers["content-language"] == (lang or "it")
        assert response.json()["detail"] not in ("Not Found", "Method Not Allowed")
    assert ("address" in missing.json()["detail"]) is (lang == "en")
    assert ("indirizzo" in missing.json()["detail"]) is (lang != "en")


def _chunks(data: bytes, size: int = 64 * 1024):
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.parametrize("lang", ["it", "en"])
def test_every_error_answer_names_its_language(http, lang):
    ask = {"Accept-Language": lang}
    big = b"x" * (1024 * 1024 + 1)
    json_type = {"Content-Type": "application/json"}
    answers = {
        "404": http.get(f"/v1/decisions/{UNKNOWN}", headers=headers("audit", **ask)),
        "422": http.post("/v1/eligibility", json=eligibility_body(as_of="01/03/2014"), headers=headers("evaluate", **ask)),
        "422 facts": http.post("/v1/eligibility", json=eligibility_body({"birth_date": "1980-13-01"}),
                               headers=headers("evaluate", **ask)),
        "413": http.post("/v1/eligibility", content=big, headers=headers("evaluate", **ask, **json_type)),
        "413 chunked": http.post("/v1/eligibility", content=_chunks(big), headers=headers("evaluate", **ask, **json_type)),
        "401": http.post("/v1/eligibility", json=eligibility_body(), headers=ask),
        "401 unknown key": http.post("/v1/eligibility", json=eligibility_body(),
                                     headers={**ask, "X-API-Key": "not-a-key"}),
        "403": http.get(f"/v1/decisions/{UNKNOWN}", headers=headers("evaluate", **ask)),
        "422 purpose": http.get(f"/v1/decisions/{UNKNOWN}", headers=headers("audit", **ask, **{"X-Purpose": "x" * 5000})),
        "500": http.get("/v1/boom", headers=ask),
    }
    english = {"404": "no decision", "422": "expected", "422 facts": "expected", "413": "nothing was read",
               "413 chunked": "nothing was read", "401": "API key", "401 unknown key": "unknown API key",
               "403": "role", "422 purpose": "printable characters", "500": "internal error"}
    for name, response in answers.items():
        assert str(response.status_code) == name.split()[0], (name, response.text)
        assert response.headers.get("content-language") == lang, name
        assert (english[name] in response.text) is (lang == "en"), (name, response.text)


def test_the_lang_query_field_decides_the_header_too(http):
    response = http.get(f"/v1/decisions/{UNKNOWN}?lang=en", headers=_asking("it"))
    assert response.status_code == 404
    assert response.headers["content-language"] == "en" and response.json()["detail"].startswith("no decision")


# -- the same texts on the command line ------------------------------------------------------------
@pytest.fixture
def cli_db(tmp_path):
    from api.store.db import upgrade
    url = f"sqlite:///{tmp_path / 'almp.db'}"
    upgrade(url)
    return url


@pytest.mark.parametrize("lang", [None, "en"])
def test_cli_unknown_decision_in_the_chosen_language(cli_db, api_policies, capsys, lang):
    more = ["--lang", lang] if lang else []
    for command in (["replay", UNKNOWN], ["statement", UNKNOWN], ["replay", CODE]):
        assert main([*command, "--database", cli_db, "--policies", str(api_policies), *more]) == 2
        err = capsys.readouterr().err
        assert CODE not in err
        if lang == "en":
            assert "no decision" in err and "nessuna" not in err, err
        else:
            assert "nessuna decisione" in err and "no decision" not in err, err
        if command[1] == UNKNOWN:
            assert UNKNOWN in err


@pytest.mark.parametrize("lang", [None, "en"])
def test_cli_eval_of_an_unknown_programme_in_the_chosen_language(capsys, lang):
    more = ["--lang", lang] if lang else []
    person = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "examples" / "person-dul.json")
    assert main(["eval", "lombardia/nessuno", "--person", person, "--as-of", "2014-03-01", *more]) == 2
    unknown = capsys.readouterr().err
    assert main(["eval", DUL, "--person", person, "--as-of", "1990-01-01", *more]) == 2
    none_in_force = capsys.readouterr().err
    if lang == "en":
        assert "no policy 'lombardia/nessuno'" in unknown and "in force on 01/01/1990" in none_in_force
    else:
        assert "nessuna politica 'lombardia/nessuno'" in unknown
        assert "in vigore il 01/01/1990" in none_in_force and "1990-01-01" not in none_in_force


@pytest.mark.parametrize("lang", [None, "en"])
def test_cli_replay_usage_and_missing_store_in_the_chosen_language(cli_db, api_policies, tmp_path, capsys, lang):
    more = ["--lang", lang] if lang else []
    policies = ["--policies", str(api_policies)]
    assert main(["replay", UNKNOWN, "--from", "2024-01-01", "--to", "2024-02-01", "--database", cli_db,
                 *policies, *more]) == 2
    both = capsys.readouterr().err
    assert main(["replay", "--database", cli_db, *policies, *more]) == 2
    neither = capsys.readouterr().err
    empty = f"sqlite:///{tmp_path / 'vuoto.db'}"
    assert main(["replay", UNKNOWN, "--database", empty, *policies, *more]) == 2
    no_store = capsys.readouterr().err
    if lang == "en":
        assert "not both" in both and "for a batch" in neither and "no decision store here" in no_store
    else:
        assert "non entrambi" in both and "not both" not in both
        assert "per un insieme di decisioni" in neither and "for a batch" not in neither
        assert "non c'è un archivio delle decisioni" in no_store and "no decision store" not in no_store
