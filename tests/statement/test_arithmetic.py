"""A reader can redo every claim amount by hand from the numbers printed in the statement alone.

The printed HTML is parsed as text: every equation (`… = …`) is recomputed with exact decimals and
the half-up cent rule; each line's payable amount is recomputed as claimed minus what was not paid;
the totals are recomputed from the lines; the instalments add up to the outcome payment. Hypothesis
draws claims over a programme with every cost option; the AdR worked examples run too.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.costs.claims import price_claim
from engine.policy.registry import Registry
from engine.statement import build_statement, load_authorities, render_html
from engine.statement.model import DecisionRecord

from ..costs.fixtures import make_tree

POLICIES = Path(__file__).resolve().parents[2] / "policies"


# -- reading the printed statement -------------------------------------------------------------
class _Printed(HTMLParser):
    """The outcome section as printed: groups (a line's heading, or the totals) of list items, each item
    with its full text and the text of its equation (span.calc), if any."""

    def __init__(self):
        super().__init__()
        self.groups: list[dict] = []
        self._in_outcome = False
        self._item = None
        self._calc = None
        self._title = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and attrs.get("aria-labelledby") == "s-outcome":
            self._in_outcome = True
        if not self._in_outcome:
            return
        if tag == "h3":
            self._title = ""
        elif tag == "ul" and "totals" in (attrs.get("class") or ""):
            self.groups.append({"title": "TOTALS", "items": []})
        elif tag == "li":
            self._item = {"text": "", "calc": None}
        elif tag == "span" and attrs.get("class") == "calc":
            self._calc = ""

    def handle_endtag(self, tag):
        if tag == "h3" and self._title is not None:
            self.groups.append({"title": self._title, "items": []})
            self._title = None
        elif tag == "span" and self._calc is not None:
            self._item["calc"] = self._calc
            self._calc = None
        elif tag == "li" and self._item is not None:
            if self.groups:
                self.groups[-1]["items"].append(self._item)
            self._item = None
        elif tag == "section" and self._in_outcome and self._title is None and self._item is None:
            pass

    def handle_data(self, data):
        if self._title is not None:
            self._title += data
        if self._item is not None:
            self._item["text"] += data
        if self._calc is not None:
            self._calc += data


NUMBER = r"\d{1,3}(?:\.\d{3})*(?:,\d+)?|\d+(?:,\d+)?"


def number(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def amount_in(text: str) -> Decimal:
    """The first amount in euro in ``text``."""
    m = re.search(rf"({NUMBER}) €", text)
    assert m, text
    return number(m.group(1))


class _Calc:
    """A small recursive-descent reader for the printed arithmetic: + − × :, %, ( ), max(…; …), min(…; …)."""

    def __init__(self, text: str):
        self.tokens = re.findall(rf"{NUMBER}|max|min|[()+−×:;%]", text.replace("€", ""))
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected=None):
        token = self.peek()
        assert token is not None and (expected is None or token == expected), (expected, token, self.tokens)
        self.i += 1
        return token

    def parse(self) -> Decimal:
        value = self.sum()
        assert self.peek() is None, self.tokens[self.i:]
        return value

    def sum(self):
        value = self.product()
        while self.peek() in ("+", "−"):
            op = self.take()
            right = self.product()
            value = value + right if op == "+" else value - right
        return value

    def product(self):
        value = self.atom()
        while self.peek() in ("×", ":"):
            op = self.take()
            right = self.atom()
            value = value * right if op == "×" else value / right
        return value

    def atom(self):
        token = self.take()
        if token in ("max", "min"):
            self.take("(")
            args = [self.sum()]
            while self.peek() == ";":
                self.take(";")
                args.append(self.sum())
            self.take(")")
            return max(args) if token == "max" else min(args)
        if token == "(":
            value = self.sum()
            self.take(")")
            return value
        value = number(token)
        if self.peek() == "%":
            self.take("%")
            value = value / 100
        return value


def check_equation(calc: str) -> Decimal:
    """Recompute ``left = right``; returns right."""
    left, right = calc.rsplit("=", 1)
    computed = _Calc(left).parse()
    printed = number(re.search(NUMBER, right).group(0))
    if "€" in right:
        computed = computed.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert computed == printed, f"{calc}: computes to {computed}"
    return printed


def redo_by_hand(html: str) -> dict:
    """Everything a reader recomputes from the printed statement; returns the totals it arrives at."""
    printed = _Printed()
    printed.feed(html)
    line_payables = []
    for group in printed.groups:
        for item in group["items"]:
            if item["calc"]:
                check_equation(item["calc"])
        if group["title"] == "TOTALS":
            continue
        texts = [i["text"] for i in group["items"]]
        claimed = next((check_equation(i["calc"]) for i in group["items"]
                        if i["text"].startswith("richiesto:") and i["calc"]), None)
        if claimed is None:
            flat = next((t for t in texts if t.startswith(("importo previsto", "importo fisso"))), None)
            claimed = amount_in(flat) if flat else None
        not_paid = [amount_in(t) for t in texts if t.startswith("non liquidato:") and "€" in t.split("–")[0]]
        payable_text = next(t for t in texts if t.startswith("liquidabile:"))
        payable = amount_in(payable_text.rsplit("=", 1)[-1])
        if claimed is not None:
            assert payable == claimed - sum(not_paid, Decimal(0)), (group["title"], texts)
        else:
            assert payable == 0, (group["title"], texts)
        instalments = [i for i in group["items"] if " rata" in i["text"] or "pagamento unico" in i["text"]]
        if instalments:
            parts = [number(re.search(NUMBER, i["calc"].rsplit("=", 1)[1]).group(0)) if i["calc"]
                     else amount_in(i["text"]) for i in instalments]
            assert sum(parts) == payable, texts
        line_payables.append(payable)
    totals = {i["text"].split(":")[0]: i for g in printed.groups if g["title"] == "TOTALS" for i in g["items"]}
    payable_total = totals["Totale liquidabile"]
    if payable_total["calc"]:
        terms = [number(t) for t in re.findall(NUMBER, payable_total["calc"].rsplit("=", 1)[0])]
        assert sorted(terms) == sorted(line_payables)
        total = check_equation(payable_total["calc"])
    else:
        total = amount_in(payable_total["text"])
        assert [total] == line_payables or (total == 0 and not line_payables)
    return {"payable": total}


# -- the claims ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    root = make_tree(tmp_path_factory.mktemp("statement-claims"))
    return Registry.load(root).get("test/costs", "2020")


def statement_html(policy, claim: dict, authority=None) -> tuple[str, dict]:
    result = json.loads(json.dumps(price_claim(policy, claim), default=str))
    record = DecisionRecord(kind="claim", as_of=dt.date.fromisoformat(claim["start_date"]),
                            input={"policy": policy.id, "version": policy.version, "as_of": claim["start_date"],
                                   "claim": claim}, result=result, id="c-1", created_at="2024-01-02T03:04:05.000000Z",
                            template_version="1")
    return render_html(build_statement(record, policy, authority)), result


SERVICE = st.fixed_dictionaries({
    "code": st.sampled_from(["a", "c", "g", "spese-generali", "b", "e", "zz"]),
    "date": st.dates(dt.date(2020, 1, 15), dt.date(2020, 9, 30)).map(dt.date.isoformat),
    "quantity": st.integers(1, 12),
    "delivery": st.sampled_from(["individual", "group"])})
OUTCOME = st.one_of(st.none(), st.fixed_dictionaries({
    "contract_type": st.sampled_from(["open_ended", "fixed_term", "apprenticeship"]),
    "start": st.dates(dt.date(2020, 1, 20), dt.date(2020, 9, 30)).map(dt.date.isoformat),
    "duration_months": st.integers(1, 12),
    "job_region": st.sampled_from(["lombardia", "basilicata", "calabria"])}))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(services=st.lists(SERVICE, max_size=7), outcome=OUTCOME,
       birth=st.sampled_from(["1990-01-01", "1970-01-01"]),
       status=st.sampled_from(["unemployed", "unemployed", "employed"]),
       index=st.sampled_from(["0.2", "0.5", "0.55", "0.8", "1"]))
def test_every_printed_claim_amount_can_be_redone_by_hand(scratch, services, outcome, birth, status, index):
    claim = {"person": {"birth_date": birth, "employment_status": status, "profiling_index": index},
             "start_date": "2020-02-01", "services": services, "outcome": outcome}
    html, result = statement_html(scratch, claim)
    redone = redo_by_hand(html)
    assert redone["payable"] == Decimal(result["payable"])


def test_adr_formula_examples_redone_by_hand(registry):
    authority = load_authorities(POLICIES)["national"]
    policy = registry.get("national/assegno-di-ricollocazione", "2018")
    person = {"employment_status": "unemployed", "unemployed_since": "2017-10-01", "income_support": "naspi",
              "patto_di_servizio": True, "accordo_ricollocazione_24bis": False, "profiling_index": "0.8"}
    for outcome, expected in (({"contract_type": "open_ended", "start": "2018-10-01", "job_region": "lombardia"},
                               "3400.00"),
                              ({"contract_type": "fixed_term", "start": "2018-10-01", "end": "2019-05-31",
                                "job_region": "lombardia"}, "1700.00")):
        claim = {"person": person, "start_date": "2018-06-01", "services": [], "outcome": outcome}
        html, result = statement_html(policy, claim, authority)
        assert redo_by_hand(html)["payable"] == Decimal(expected) == Decimal(result["payable"])
        assert "max(1.000; 1.000 + (0,8 − 0,5) × 2 × (5.000 − 1.000)) = 3.400,00 €" in html or expected != "3400.00"


def test_a_wrong_printed_number_is_caught():
    with pytest.raises(AssertionError):
        check_equation("4 × 32,00 € = 129,00 €")
    assert check_equation("max(100; 100 + (0,8 − 0,5) × 2 × (300 − 100)) = 220,00 €") == Decimal("220.00")
    assert check_equation("10 % × 300,00 € = 30,00 €") == Decimal("30.00")
