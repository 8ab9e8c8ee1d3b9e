"""`almp screen`: every programme in force for a person, eligible first, Italian by default."""
from __future__ import annotations

import json

from almp.cli import main

from ..conftest import REPO


def test_almp_screen_lists_every_programme_in_force_in_italian(registry, capsys):
    import datetime as dt
    day = dt.date(2019, 6, 1)
    in_force = [p for p in registry.policies if p.status != "draft" and p.subject == "person" and p.in_force(day)]
    assert main(["screen", "--person", str(REPO / "examples" / "person-dul-2019.json"), "--as-of", "2019-06-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Programmi in vigore il 01/06/2019: {len(in_force)}")
    for policy in in_force:
        assert f"[{policy.key}]" in out
    first = out.splitlines()[1]
    assert "lombardia/dote-unica-lavoro@2019" in first and "ammissibile" in first and "3.000,00\xa0€" in first
    assert "motivo:" in out


def test_almp_screen_json_is_sorted_eligible_first(capsys):
    assert main(["screen", "--person", str(REPO / "examples" / "person-dul-2019.json"), "--as-of", "2019-06-01",
                 "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    order = {"eligible": 0, "undetermined": 1, "not_eligible": 2}
    assert [order[r["outcome"]] for r in results] == sorted(order[r["outcome"]] for r in results)


def test_almp_screen_unknown_authority_is_exit_2_with_a_hint(capsys):
    assert main(["screen", "--person", str(REPO / "examples" / "person-dul-2019.json"), "--as-of", "2019-06-01",
                 "--authority", "lombarda"]) == 2
    assert "did you mean 'lombardia'" in capsys.readouterr().err


def test_almp_eval_answers_from_partial_facts(tmp_path, capsys):
    person = tmp_path / "p.json"
    person.write_text(json.dumps({"birth_date": "1949-01-01"}))
    assert main(["eval", "lombardia/dote-unica-lavoro", "--person", str(person), "--as-of", "2019-06-01"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outcome"] == "not_eligible" and result["reasons"][0]["rule"] == "eta-massima"
