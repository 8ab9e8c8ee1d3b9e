"""Replay: identical under the stored edition, a what-if under another, and after the YAML changed."""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings, strategies as st

from .conftest import DUL, PERSON, PERSON_BOTH, decide, eligibility_body, headers


def replay(client, decision_id, body=None):
    response = client.post(f"/v1/decisions/{decision_id}/replay", json=body, headers=headers("audit"))
    assert response.status_code == 200, response.text
    return response.json()


def test_replay_under_the_stored_edition_is_identical(client):
    decision = decide(client)
    report = replay(client, decision["decision_id"])
    assert report["identical"] is True and report["differences"] == []
    assert report["mode"] == "exact"
    assert report["replayed"]["content_hash"] == decision["policy"]["content_hash"]
    assert report["result"]["band"] == decision["band"]


def test_replay_accepts_an_empty_object_body(client):
    decision = decide(client)
    assert replay(client, decision["decision_id"], {})["identical"] is True


def test_what_if_under_another_edition_lists_the_differences(client, registry):
    decision = decide(client, PERSON_BOTH)
    report = replay(client, decision["decision_id"], {"version": "2019"})
    assert report["mode"] == "what-if"
    assert report["replayed"]["version"] == "2019"
    assert report["replayed"]["content_hash"] == registry.get(DUL, "2019").content_hash
    assert report["identical"] is False
    paths = {d["path"] for d in report["differences"]}
    assert "$.policy.content_hash" in paths and "$.policy.version" in paths
    changed = next(d for d in report["differences"] if d["path"] == "$.policy.version")
    assert (changed["stored"], changed["replayed"]) == ("2013", "2019")


def test_what_if_under_an_unknown_version_is_404(client):
    decision = decide(client)
    response = client.post(f"/v1/decisions/{decision['decision_id']}/replay", json={"version": "1999"},
                           headers=headers("audit"))
    assert response.status_code == 404


def test_what_if_under_an_edition_reading_facts_the_decision_lacks_answers_from_the_facts_it_has(client):
    decision = decide(client, PERSON)  # lacks the facts only the 2019 edition reads: they are unknown there
    response = client.post(f"/v1/decisions/{decision['decision_id']}/replay", json={"version": "2019"},
                           headers=headers("audit"))
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["policy"]["version"] == "2019" and result["outcome"] in ("eligible", "not_eligible", "undetermined")
    assert set(result.get("missing", [])) <= {"command_authorisation", "income_support_since", "master_enrolled",
                                              "police_or_armed_forces"}


def test_replay_body_rejects_unknown_fields_and_wrong_types(client):
    decision = decide(client)
    for body in ({"versoin": "2013"}, {"version": 2013}):
        response = client.post(f"/v1/decisions/{decision['decision_id']}/replay", json=body,
                               headers=headers("audit"))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][:2] in (["body", "versoin"], ["body", "version"])


def test_editing_then_deleting_the_yaml_and_restarting_still_replays_identically(make_client, policy_copy):
    client = make_client(policy_copy)
    decision = decide(client)
    edition = policy_copy / "lombardia" / "dote-unica-lavoro" / "2013.yaml"
    text = edition.read_text(encoding="utf-8")
    edited = text.replace("title:", "title: EDITED", 1)
    assert edited != text
    edition.write_text(edited, encoding="utf-8")

    restarted = make_client(policy_copy)  # a new app: the registry now holds the edited edition
    current = restarted.get(f"/v1/policies/{DUL}/2013").json()["summary"]["content_hash"]
    assert current != decision["policy"]["content_hash"]
    report = replay(restarted, decision["decision_id"])
    assert report["identical"] is True
    assert report["replayed"]["content_hash"] == decision["policy"]["content_hash"]
    # Under today's (edited) file the same input is no longer byte-identical: the title changed.
    what_if = replay(restarted, decision["decision_id"], {"version": "2013"})
    assert what_if["identical"] is False
    assert "$.policy.title" in {d["path"] for d in what_if["differences"]}

    edition.unlink()
    gone = make_client(policy_copy)
    assert gone.get(f"/v1/policies/{DUL}/2013").status_code == 404
    assert replay(gone, decision["decision_id"])["identical"] is True


_FACTS = st.fixed_dictionaries({
    "birth_date": st.dates(dt.date(1940, 1, 1), dt.date(2000, 12, 31)).map(dt.date.isoformat),
    "gender": st.sampled_from(["F", "M"]),
    "residence_region": st.sampled_from(["lombardia", "piemonte", "basilicata"]),
    "domicile_region": st.sampled_from(["lombardia", "veneto"]),
    "workplace_region": st.one_of(st.none(), st.sampled_from(["lombardia", "lazio"])),
    "employment_status": st.sampled_from(["unemployed", "employed", "suspended", "inactive", "student"]),
    "unemployed_since": st.one_of(st.none(), st.dates(dt.date(2005, 1, 1), dt.date(2014, 2, 28))
                                  .map(dt.date.isoformat)),
    "education_level": st.sampled_from(["none", "primary", "lower_secondary", "upper_secondary", "tertiary",
                                        "postgraduate"]),
    "income_support": st.sampled_from(["none", "naspi", "cig", "cigs", "mobility", "aspi", "cigd"]),
    "solidarity_agreement": st.booleans(),
    "last_cigd_period": st.booleans(),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(person=_FACTS, as_of=st.dates(dt.date(2013, 10, 21), dt.date(2015, 6, 30)))
def test_replay_is_identical_for_any_person(client, person, as_of):
    response = client.post("/v1/eligibility", json=eligibility_body(person, as_of=as_of.isoformat()),
                           headers=headers("evaluate"))
    assert response.status_code in (200, 422), response.text  # 422: a combination the dictionary refuses
    if response.status_code == 200:
        report = replay(client, response.json()["decision_id"])
        assert report["identical"] is True, report["differences"]
