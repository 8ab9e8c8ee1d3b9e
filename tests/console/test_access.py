"""Access to the console: sign-in with an API key, the session cookie, CSRF, roles, security headers."""
from __future__ import annotations

from .conftest import KEYS, csrf_of, sign_in


def test_pages_need_a_signed_in_user(console_client):
    response = console_client.get("/console/programmi", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/accesso?dopo=/programmi"


def test_unknown_key_is_refused_in_italian(console_client):
    page = console_client.get("/console/accesso")
    response = console_client.post("/console/accesso", data={"chiave": "almp_wrong", "csrf_token": csrf_of(page.text)})
    assert response.status_code == 401
    assert "Chiave non riconosciuta" in response.text
    assert "almp_console" not in response.headers.get("set-cookie", "") or "key" not in response.text


def test_sign_in_without_the_form_token_is_refused(console_client):
    console_client.get("/console/accesso")
    response = console_client.post("/console/accesso", data={"chiave": KEYS["revisore"][0]})
    assert response.status_code == 403
    assert "Modulo non valido" in response.text
    assert console_client.get("/console/programmi", follow_redirects=False).status_code == 303


def test_session_cookie_is_httponly_strict_and_scoped(console_client):
    response = sign_in(console_client, "revisore")
    cookie = response.headers["set-cookie"].lower()
    assert "almp_console=" in cookie
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    # the cookie holds the key's digest, never the key itself
    assert KEYS["revisore"][0].lower() not in cookie


def test_sign_in_returns_to_the_page_asked_for_and_never_off_site(console_client):
    page = console_client.get("/console/accesso?dopo=/programmi")
    token = csrf_of(page.text)
    response = console_client.post("/console/accesso", data={"chiave": KEYS["revisore"][0], "csrf_token": token,
                                                             "dopo": "/programmi"}, follow_redirects=False)
    assert response.headers["location"] == "/console/programmi"
    page = console_client.get("/console/accesso")
    response = console_client.post("/console/accesso", data={"chiave": KEYS["revisore"][0],
                                                             "csrf_token": csrf_of(page.text),
                                                             "dopo": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/console/"


def test_a_form_post_needs_the_session_token(console_client):
    sign_in(console_client, "revisore")
    response = console_client.post("/console/esci", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert console_client.get("/console/programmi").status_code == 200  # still signed in
    token = csrf_of(console_client.get("/console/programmi").text)
    assert console_client.post("/console/esci", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert console_client.get("/console/programmi", follow_redirects=False).status_code == 303


def test_pages_carry_security_headers_and_are_not_cached(console_client):
    sign_in(console_client, "revisore")
    response = console_client.get("/console/programmi")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_api_is_untouched_by_the_console(console_client):
    response = console_client.get("/v1/health")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert "content-security-policy" not in response.headers
