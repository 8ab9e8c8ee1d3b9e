"""Checks across the shipped programmes (issue 4): editions, windows, subjects, examples."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from almp.cli import main
from engine.errors import InputErrors
from engine.decide.evaluate import evaluate

REPO = Path(__file__).resolve().parents[2]

# (programme, example input, as_of, expected version, eligible, band)
EXAMPLES = [
    ("lombardia/dote-unica-lavoro", "person-dul.json", "2014-03-01", "2013", True, "3"),
    ("lombardia/dote-unica-lavoro", "person-dul-2016.json", "2016-06-01", "2016", True, "3"),
    ("lombardia/dote-unica-lavoro", "person-dul-2019.json", "2019-06-01", "2019", True, "4"),
    ("lombardia/dote-unica-lavoro", "person-dul-2020.json", "2021-03-01", "2020", True, "5"),
    ("lombardia/dote-unica-lavoro", "person-dul-2023.json", "2023-09-01", "2023", True, "reinserimento"),
    ("lombardia/reti-di-partenariato", "partnership-reti.json", "2012-06-01", "2012", True, None),
    ("lombardia/reti-di-partenariato-destinatari", "person-reti-destinatari.json", "2012-06-01", "2012", True,
     "sussidiati"),
    ("lombardia/azioni-di-rete-per-il-lavoro", "partnership-azioni-di-rete.json", "2015-07-01", "2014", True,
     "ridotto"),
    ("basilicata/capitale-lavoro", "person-capitale-lavoro.json", "2018-10-01", "2018", True, "alta"),
    ("basilicata/destinazione-over-35", "person-destinazione-over-35.json", "2018-09-01", "2018", True, "over-35"),
    ("lombardia/incentivi-assunzione-dul", "hire-incentivo-dul.json", "2021-06-01", "2021", True,
     "donna-55-piccola-impresa"),
]


@pytest.mark.parametrize("policy_id,example,as_of,version,eligible,band", EXAMPLES)
def test_example_inputs_give_the_documented_decision(registry, policy_id, example, as_of, version, eligible, band):
    day = dt.date.fromisoformat(as_of)
    policy = registry.get(policy_id, None, day)
    assert policy.version == version
    facts = json.loads((REPO / "examples" / example).read_text(encoding="utf-8"))
    result = evaluate(policy, facts, day)
    assert result["eligible"] is eligible
    assert (result["band"] or {}).get("id") == band


def test_dul_editions_do_not_overlap_and_as_of_picks_each(registry):
    editions = sorted(registry.editions("lombardia/dote-unica-lavoro"), key=lambda p: p.valid_from)
    assert [p.version for p in editions][:5] == ["2013", "2016", "2019", "2020", "2023"]
    for before, after in zip(editions, editions[1:]):
        assert before.valid_to < after.valid_from
    assert registry.get("lombardia/dote-unica-lavoro", None, dt.date(2020, 11, 8)).version == "2019"
    assert registry.get("lombardia/dote-unica-lavoro", None, dt.date(2020, 11, 9)).version == "2020"
    assert registry.get("lombardia/dote-unica-lavoro", None, dt.date(2023, 5, 2)).version == "2023"


def test_every_shipped_edition_has_test_cases(registry):
    for policy in registry.policies:
        if policy.id.startswith(("lombardia/", "basilicata/")):
            assert Path(policy.file).with_suffix(".tests.yaml").exists(), policy.file


def test_partnership_programmes_read_only_partnership_facts(registry):
    for policy_id, version in (("lombardia/reti-di-partenariato", "2012"),
                               ("lombardia/azioni-di-rete-per-il-lavoro", "2014")):
        policy = registry.get(policy_id, version)
        assert policy.subject == "partnership"
        for name in policy.facts:
            assert policy.dictionary.facts[name].subject == "partnership"


def test_person_facts_sent_for_a_partnership_are_rejected_under_the_partnership_path(registry):
    policy = registry.get("lombardia/reti-di-partenariato", "2012")
    with pytest.raises(InputErrors) as info:
        evaluate(policy, {"birth_date": "1970-01-01"}, dt.date(2012, 6, 1))
    paths = {p.as_dict()["path"] for p in info.value.problems}
    assert "$.partnership.birth_date" in paths
    assert "$.partnership.lead_partner_accredited_labour" in paths


@pytest.mark.parametrize("flag", ["--subject", "--person"])
def test_cli_evaluates_a_partnership(capsys, flag):
    code = main(["eval", "lombardia/reti-di-partenariato", flag, str(REPO / "examples" / "partnership-reti.json"),
                 "--as-of", "2012-06-01", "--backend", "reference"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["subject"] == "partnership" and out["eligible"] is True


def test_validate_lists_placeholders_of_new_programmes(capsys):
    assert main(["validate", str(REPO / "policies" / "lombardia" / "reti-di-partenariato")]) == 0
    out = capsys.readouterr().out
    assert "lombardia/reti-di-partenariato@2012" in out
    assert "valore provvisorio parameters.min_operatori_accreditati" in out
