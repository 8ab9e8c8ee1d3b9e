"""A policy officer's mistakes are caught with file:line, the path inside the document and a fix."""
from __future__ import annotations

import pytest

from engine.errors import PolicyErrors
from engine.policy.registry import Registry
from engine.policy.loader import load_text


def errors_of(root):
    with pytest.raises(PolicyErrors) as info:
        Registry.load(root)
    return info.value.errors


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_shipped_policies_validate(registry):
    assert {p.id for p in registry.policies} >= {"lombardia/dote-unica-lavoro"}


def test_typo_in_fact_name_names_line_column_and_suggests(policy_tree, minimal):
    text = minimal().replace("when: age >= eta_min", "when: agee >= eta_min")
    path = policy_tree("test/prog/2020.yaml", text)
    [err] = errors_of(policy_tree.root)
    assert err.code == "expr_type_error"
    assert err.location.file == str(path)
    assert err.location.line == line_of(path.read_text(), "agee")
    assert err.location.column == path.read_text().splitlines()[err.location.line - 1].index("agee") + 1
    assert "intendevi 'age'" in err.hint
    assert err.render().startswith(f"{path}:{err.location.line}:")


def test_malformed_expression(policy_tree, minimal):
    path = policy_tree("test/prog/2020.yaml", minimal().replace("age >= eta_min", "age >= "))
    [err] = errors_of(policy_tree.root)
    assert err.code == "expr_syntax_error"
    assert err.location.line == line_of(path.read_text(), "when: age >=")
    assert err.location.path == ("eligibility", 0, "when")


def test_overlapping_edition_windows(policy_tree, minimal):
    policy_tree("test/prog/2020.yaml", minimal())
    later = policy_tree("test/prog/2021.yaml", minimal("2021", "2020-06-01", "2021-12-31"))
    [err] = errors_of(policy_tree.root)
    assert err.code == "policy_window_overlap"
    assert err.location.file == str(later)
    assert err.location.line == line_of(later.read_text(), "valid_from")
    assert "valid_to: 2020-05-31" in err.hint


def test_unknown_key_is_rejected_with_suggestion(policy_tree, minimal):
    path = policy_tree("test/prog/2020.yaml", minimal().replace("reason: too young", "reasn: too young"))
    errs = errors_of(policy_tree.root)
    assert any(e.code == "policy_schema_error" and "reasn" in e.message and "reason" in e.hint for e in errs)
    assert all(e.location.file == str(path) for e in errs)


def test_duplicate_rule_ids(policy_tree, minimal):
    path = policy_tree("test/prog/2020.yaml", minimal().replace("id: stato", "id: eta"))
    [err] = errors_of(policy_tree.root)
    assert err.code == "policy_duplicate_id"
    assert "già usato alla riga" in err.hint
    lines = path.read_text().splitlines()
    assert err.location.line == [i for i, t in enumerate(lines, 1) if "id: eta" in t][1]


def test_duplicate_yaml_key():
    with pytest.raises(PolicyErrors) as info:
        load_text("a: 1\nb: 2\na: 3\n", "x.yaml")
    [err] = info.value.errors
    assert (err.location.line, err.code) == (3, "policy_yaml_error")


def test_yaml_numbers_are_decimal_never_float():
    doc = load_text("amount: 1500.10\nrate: 0.1\n", "x.yaml")
    assert str(doc.data["amount"]) == "1500.10" and type(doc.data["rate"]).__name__ == "Decimal"


def test_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [" + ", ".join(f"*{p}" for _ in range(9)) + "]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))
    with pytest.raises(PolicyErrors) as info:
        load_text(bomb, "bomb.yaml")
    assert "values" in str(info.value) or "aliases" in str(info.value)


BANDS = """
points:
  - id: old
    label: old
    when: age >= 50
    points: {value: 2, status: placeholder, missing: table}
    reference: {act: act}
bands:
  - id: low
    label: low
    when: points < LOW_MAX
    reference: {act: act}
  - id: high
    label: high
    when: points >= HIGH_MIN
    reference: {act: act}
"""


@pytest.mark.parametrize("low_max,high_min,code", [("3", "2", "policy_band_overlap"),
                                                   ("1", "3", "policy_band_gap"),
                                                   ("3", "3", "policy_band_unreachable")])
def test_band_overlap_gap_and_unreachable(policy_tree, minimal, low_max, high_min, code):
    text = minimal() + BANDS.replace("LOW_MAX", low_max).replace("HIGH_MIN", high_min)
    path = policy_tree("test/prog/2020.yaml", text)
    errs = errors_of(policy_tree.root)
    assert code in {e.code for e in errs}
    err = next(e for e in errs if e.code == code)
    assert err.location.file == str(path) and err.location.line > 0
    if code != "policy_band_unreachable":
        assert "ad esempio: " in err.message and "{" not in err.message  # an example person, in words


def test_bands_that_partition_are_accepted(policy_tree, minimal):
    policy_tree("test/prog/2020.yaml", minimal() + BANDS.replace("LOW_MAX", "2").replace("HIGH_MIN", "2"))
    assert Registry.load(policy_tree.root).get("test/prog", "2020").bands


def test_figure_without_provenance(policy_tree, minimal):
    path = policy_tree("test/prog/2020.yaml", minimal().replace(
        "eta_min: {value: 30, source: src, status: confirmed}", "eta_min: 30"))
    [err] = errors_of(policy_tree.root)
    assert err.code == "policy_provenance_error" and err.location.line == line_of(path.read_text(), "eta_min: 30")


def test_placeholder_must_say_what_is_missing(policy_tree, minimal):
    policy_tree("test/prog/2020.yaml", minimal().replace("source: src, status: confirmed",
                                                         "status: placeholder"))
    [err] = errors_of(policy_tree.root)
    assert err.code == "policy_provenance_error" and "missing" in err.hint


def test_file_name_must_match_version(policy_tree, minimal):
    policy_tree("test/prog/2019.yaml", minimal())
    [err] = errors_of(policy_tree.root)
    assert err.code == "policy_placement_error"


def test_provenance_problems_speak_italian_and_english_on_request(policy_tree, minimal):
    from engine.i18n import set_language
    policy_tree("test/prog/2020.yaml", minimal().replace("id: stato", "id: eta"))
    texts = {}
    for lang in ("it", "en"):
        set_language(lang)
        try:
            [err] = errors_of(policy_tree.root)
        finally:
            set_language(None)
        texts[lang] = (err.message, err.hint)
    assert texts["it"] == ("id di regola duplicato 'eta'", texts["it"][1]) and "già usato alla riga" in texts["it"][1]
    assert texts["en"][0] == "duplicate rule id 'eta'" and "already used at line" in texts["en"][1]


def test_compiler_problems_speak_italian_and_english_on_request(policy_tree, minimal):
    from engine.i18n import using
    policy_tree("test/prog/2020.yaml", minimal().replace("facts: [age, employment_status]",
                                                          "facts: [age, employment_status, agee]"))
    texts = {}
    for lang in ("it", "en"):
        with using(lang):
            [err] = errors_of(policy_tree.root)
        texts[lang] = (err.code, err.message, err.hint)
    assert texts["it"] == ("policy_fact_error", "fatto sconosciuto 'agee'", "intendevi 'age'?")
    assert texts["en"] == ("policy_fact_error", "unknown fact 'agee'", "did you mean 'age'?")


@pytest.mark.parametrize("share", ['"1800,00"', '"0,5"', "1.5", "0", "true"])
def test_an_instalment_share_that_is_not_a_fraction_is_named_with_its_line(tmp_path, capsys, share):
    """Found by the damaged-edition property: a share written as text crashed the compiler (internal error)."""
    import shutil
    from pathlib import Path

    from almp.cli import main
    root = Path(__file__).resolve().parents[2] / "policies"
    shutil.copytree(root / "national", tmp_path / "national")
    path = tmp_path / "national" / "assegno-di-ricollocazione" / "2018.yaml"
    text = path.read_text(encoding="utf-8")
    assert "share: {value: 0.5," in text
    path.write_text(text.replace("share: {value: 0.5,", f"share: {{value: {share},", 1), encoding="utf-8")
    code = main(["validate", str(path), "--lang", "it"])
    out = capsys.readouterr()
    assert code == 1
    assert "internal_error" not in out.out + out.err
    line = line_of(path.read_text(encoding="utf-8"), f"share: {{value: {share},")
    assert f"2018.yaml:{line}:" in out.err and "instalments[0].share" in out.err
