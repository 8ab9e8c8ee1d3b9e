"""Simulate editions over a population: who is eligible, in which band, at what cost.

The population CSV is streamed in chunks of whole records through a pool of worker
processes (the rules run in pure Python, so cores, not threads, add speed); at most a
few chunks are in flight, so memory does not grow with the file. Each worker compiles
the editions once from their exact texts (bundles) and runs the reference backend;
the main process checks a sample of people against the durable-rules backend.

Per person the outcome is a *state*: ``not eligible``, a band id, or ``no band``.
Money is computed once, at the end, from counts times the edition's Decimal figures.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

from ..decide.backends import ReferenceBackend
from ..decide.batch import BatchDecider
from ..policy.compiler import compile_bundle
from ..decide.evaluate import decide
from ..decide.state import NO_BAND, NOT_ELIGIBLE, state_of
from ..policy.model import Policy
from ..i18n import edition_name, enter, language
from ..money import to_cents
from .population import PopulationError, RowReader, read_header

CHUNK_BYTES = 2 * 2 ** 20  # about 12,000 people of the synthetic layout
SAMPLE = 1_000
MEMO_LIMIT = 300_000  # about 100 MiB per worker at most


@dataclass
class Tally:
    """Counts for one run; tallies of chunks add up."""

    people: int = 0
    states: list = field(default_factory=list)  # one Counter of states per edition
    transitions: Counter = field(default_factory=Counter)  # (state in first, state in second) -> people

    def add(self, other: "Tally") -> None:
        self.people += other.people
        if not self.states:
            self.states = [Counter() for _ in other.states]
        for mine, theirs in zip(self.states, other.states):
            mine.update(theirs)
        self.transitions.update(other.transitions)


class _Runner:
    """What one worker needs: compiled editions, their backends, and the row reader."""

    def __init__(self, bundles: list[dict], header: list[str], as_of: dt.date, file: str):
        self.policies = [compile_bundle(b) for b in bundles]
        self.deciders = [BatchDecider(p) for p in self.policies]
        needed = set().union(*(p.needed_inputs for p in self.policies))
        self.reader = RowReader(self.policies[0].dictionary, header, needed, as_of, file)
        # a decision is a pure function of the facts its rules read, and job seekers repeat
        # (same age, status, months, region...): memoise states on exactly those facts
        self.reads = tuple(sorted(set().union(*(r.condition.reads for p in self.policies for r in p.rules()))
                                  - {"points"}))
        self.memo: dict = {}

    def run(self, chunk: tuple[int, str]) -> Tally:
        first_line, text = chunk
        tally = Tally(states=[Counter() for _ in self.policies])
        deciders = self.deciders
        compare = len(deciders) == 2
        memo = self.memo
        fast = _cells(text, self.reader.width)
        if fast is not None:
            columns = self.reader.converted(fast)
            if columns is not None:
                return self._run_columns(tally, len(fast[0]), columns)
        records = list(rows(first_line, text))
        columns = self.reader.columns(records)
        if columns is not None:
            return self._run_columns(tally, len(records), columns)
        for at, row in records:  # a bad record somewhere: row by row, to report the first exactly
            env = self.reader.env(row, at)
            key = tuple([env.get(name) for name in self.reads])
            states = memo.get(key)
            if states is None:
                states = tuple(d.state(env) for d in deciders)
                if len(memo) < MEMO_LIMIT:
                    memo[key] = states
            for counter, state in zip(tally.states, states):
                counter[state] += 1
            if compare:
                tally.transitions[(states[0], states[1])] += 1
            tally.people += 1
        return tally

    def _run_columns(self, tally: Tally, n: int, columns: dict) -> Tally:
        """The chunk's people from its columns: states memoised on the facts the rules read, a full
        environment built only for a combination not seen before."""
        constant = self.reader.constant
        keys = zip(*[columns[name] if name in columns else itertools.repeat(constant.get(name), n)
                     for name in self.reads]) if self.reads else itertools.repeat((), n)
        names = list(columns)
        deciders, memo = self.deciders, self.memo
        counters = tally.states
        seen = Counter()
        for i, key in enumerate(keys):
            states = memo.get(key)
            if states is None:
                env = {name: columns[name][i] for name in names}
                env.update(constant)
                states = tuple(d.state(env) for d in deciders)
                if len(memo) < MEMO_LIMIT:
                    memo[key] = states
            seen[states] += 1
        for states, count in seen.items():
            for counter, state in zip(counters, states):
                counter[state] += count
            if len(states) == 2:
                tally.transitions[states] += count
        tally.people += n
        return tally


def _cells(text: str, width: int) -> list | None:
    """The chunk's cells a column at a time, cut by str.split in C, when the text allows it: no quotes,
    no carriage returns, no empty lines, every line ``width`` cells. None otherwise (read it by rows)."""
    if '"' in text or "\r" in text:
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or set(map(str.count, lines, itertools.repeat(","))) != {width - 1}:
        return None  # an empty line (0 commas when width > 1) or a short/long record
    if width == 1 and "" in lines:
        return None
    flat = ",".join(lines).split(",")
    return [flat[i::width] for i in range(width)]


def rows(first_line: int, text: str):
    """(line number, cells) of each non-empty record in a chunk."""
    if '"' not in text:
        # no quoting anywhere: a plain split is several times faster than the csv module
        for offset, line in enumerate(text.split("\n")):
            line = line.rstrip("\r")
            if line:
                yield first_line + offset, line.split(",")
        return
    reader = csv.reader(io.StringIO(text))
    line = first_line
    for row in reader:
        at, line = line, first_line + reader.line_num
        if row:
            yield at, row


def records(path: Path, block_bytes: int = CHUNK_BYTES):
    """(line number, cells) of every record of a population file, streamed."""
    for first, text in chunks(path, block_bytes):
        yield from rows(first, text)


_RUNNER: _Runner | None = None


def _init(bundles, header, as_of, file, lang):
    global _RUNNER
    enter(lang)  # a bad row's message is in the caller's language, whichever way the worker was started
    _RUNNER = _Runner(bundles, header, as_of, file)


def _work(chunk):
    try:
        return _RUNNER.run(chunk)
    except PopulationError as exc:
        return exc


def chunks(path: Path, block_bytes: int = CHUNK_BYTES):
    """(first line number, text of whole CSV records) after the header; leading # comment lines skipped.

    Reads big blocks and cuts them at the last newline. A quoted cell may hold a newline, so
    a block with quotes is cut only where the quotes balance; a chunk never splits a record.
    """
    with open(path, newline="", encoding="utf-8") as fh:
        number = 0
        while True:
            raw = fh.readline()
            number += 1
            if not raw or not raw.startswith("#"):
                break  # the header (or an empty file)
        first, carry = number + 1, ""
        while True:
            block = fh.read(block_bytes)
            text = carry + block
            if not block:
                if text:
                    yield first, text
                return
            cut = _record_end(text)
            if cut <= 0:
                carry = text
                continue
            piece, carry = text[:cut], text[cut:]
            yield first, piece
            first += piece.count("\n")


def _record_end(text: str) -> int:
    """Index just after the last newline of ``text`` that ends a whole record (0: none)."""
    cut = text.rfind("\n") + 1
    if '"' not in text:
        return cut
    end, quoted = 0, False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "\n" and not quoted:
            end = index + 1
    return end


def run(policies: list[Policy], path: Path, as_of: dt.date, workers: int | None = None,
        progress: Callable[[int, int], None] | None = None, chunk_bytes: int = CHUNK_BYTES) -> Tally:
    """Tally ``policies`` (one, or two to compare) over the population at ``path``.

    Chunks go to ``workers`` processes (default: every core) and their tallies are added up as
    they come back; a tally holds only counts (money is counts times Decimal figures, at the end),
    so the result does not depend on how the file was cut or which worker took which chunk."""
    path = Path(path)
    header = read_header(path)
    bundles = [p.bundle for p in policies]
    # check the header in this process first: a bad column is one clear error, not one per worker
    RowReader(policies[0].dictionary, header, set().union(*(p.needed_inputs for p in policies)), as_of, str(path))
    total_bytes = max(path.stat().st_size, 1)
    tally = Tally(states=[Counter() for _ in policies])
    done_bytes = 0
    workers = workers or os.cpu_count() or 1

    def account(result, size):
        nonlocal done_bytes
        if isinstance(result, PopulationError):
            raise result
        tally.add(result)
        done_bytes += size
        if progress:
            progress(done_bytes, total_bytes)

    if workers == 1:
        runner = _Runner(bundles, header, as_of, str(path))
        for chunk in chunks(path, chunk_bytes):
            account(runner.run(chunk), len(chunk[1].encode("utf-8")))
        return tally
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with context.Pool(workers, initializer=_init, initargs=(bundles, header, as_of, str(path), language())) as pool:
        in_flight = []
        for chunk in chunks(path, chunk_bytes):
            in_flight.append((pool.apply_async(_work, (chunk,)), len(chunk[1].encode("utf-8"))))
            # backpressure: never more than two chunks per worker held in memory
            while len(in_flight) >= 2 * workers:
                result, size = in_flight.pop(0)
                account(result.get(), size)
        for result, size in in_flight:
            account(result.get(), size)
    return tally


def verify_sample(policies: list[Policy], path: Path, as_of: dt.date, size: int = SAMPLE) -> tuple[int, list]:
    """Run the first ``size`` people on durable-rules, the reference backend and the batch path (which
    simulates the rest); list disagreements."""
    from ..decide.durable import DurableBackend
    header = read_header(path)
    mismatches, checked = [], 0
    for policy in policies:
        reader = RowReader(policy.dictionary, header, set(policy.needed_inputs), as_of, str(path))
        durable, reference, batch = DurableBackend.for_policy(policy), ReferenceBackend(policy), BatchDecider(policy)
        for at, row in itertools.islice(records(path, 256 * 1024), size):
            env = reader.env(row, at)
            a, b = decide(policy, env, reference), decide(policy, env, durable)
            checked += 1
            if a != b:
                mismatches.append({"policy": policy.key, "line": at, "reference": _show(a), "durable": _show(b)})
            elif batch.state(env) != state_of(policy, reference, env):
                mismatches.append({"policy": policy.key, "line": at, "reference": _show(a),
                                   "batch": batch.state(env)})
    return checked, mismatches


def _show(decision) -> dict:
    fired, banded, points = decision
    return {"fired": sorted(fired), "banded": sorted(banded), "points": points}


# -- money and summary ----------------------------------------------------------------------------
def parse_rates(items: list[str], policy: Policy) -> dict[str, Decimal]:
    """``band=rate`` pairs (``*=rate`` for every band); rates are shares between 0 and 1."""
    bands = [b.id for b in policy.bands]
    rates: dict[str, Decimal] = {}
    for item in items or []:
        band, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"--outcome-rate '{item}': write band=rate, e.g. 3=0.6 or *=0.5")
        try:
            rate = Decimal(text)
        except ArithmeticError:
            raise ValueError(f"--outcome-rate '{item}': '{text}' is not a number") from None
        if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):
            raise ValueError(f"--outcome-rate '{item}': a rate is a share between 0 and 1")
        if band == "*":
            for b in bands:
                rates.setdefault(b, rate)
        elif band in bands:
            rates[band] = rate
        else:
            raise ValueError(f"--outcome-rate '{item}': no band '{band}' (bands: {', '.join(bands)})")
    return rates


def outcome_amounts(policy: Policy, rule_id: str | None = None) -> tuple[str, dict[str, Decimal]]:
    """What one outcome pays per band: the edition's outcome rule by band (the first, or ``rule_id``),
    else the band's dote (a dote paid on results). Returns (basis, band id -> amount); the basis is
    ``outcome:<rule id>`` or ``dote``, words for it are the renderer's."""
    outcomes = getattr(getattr(policy, "costs", None), "outcomes", None)
    rules = [r for r in (outcomes.rules if outcomes else ()) if r.by_band]
    if rule_id is not None:
        chosen = [r for r in rules if r.id == rule_id]
        if not chosen:
            raise ValueError(f"--outcome-rule '{rule_id}': {policy.key} has no outcome rule by band with that id"
                             + (f" (rules: {', '.join(r.id for r in rules)})" if rules else ""))
        rules = chosen
    if rules:
        rule = rules[0]
        return (f"outcome:{rule.id}",
                {band: Decimal(fig.value) for band, fig in rule.by_band.items() if fig and fig.value is not None})
    return "dote", {b.id: Decimal(b.amount.value) for b in policy.bands
                                          if b.amount and b.amount.value is not None}


def summarise(policy: Policy, states: Counter, people: int, rates: dict[str, Decimal],
              take_up: Decimal = Decimal(1), outcome_rule: str | None = None) -> dict:
    """Eligibility, people and commitments per band, and expected outcome payments, as JSON-ready data."""
    eligible = people - states.get(NOT_ELIGIBLE, 0)
    basis, per_outcome = outcome_amounts(policy, outcome_rule) if rates else ("", {})
    rows, total, expected = [], Decimal(0), Decimal(0)
    for band in policy.bands:
        count = states.get(band.id, 0)
        amount = band.amount.value if band.amount and band.amount.value is not None else Decimal(0)
        committed = Decimal(count) * Decimal(amount) * take_up
        total += committed
        row = {"band": band.id, "label": band.label, "people": count, "amount": str(to_cents(amount)),
               "amount_status": band.amount.status if band.amount else "missing",
               "commitments": str(to_cents(committed))}
        if band.id in rates:
            paid = Decimal(count) * take_up * rates[band.id] * per_outcome.get(band.id, Decimal(0))
            expected += paid
            row["outcome_rate"] = str(rates[band.id])
            row["expected_payments"] = str(to_cents(paid))
        rows.append(row)
    budget = policy.budget.value if policy.budget and policy.budget.value is not None else None
    out = {
        "policy": policy.key, "content_hash": policy.content_hash, "people": people, "eligible": eligible,
        "eligibility_rate": _share(eligible, people), "not_eligible": states.get(NOT_ELIGIBLE, 0),
        "no_band": states.get(NO_BAND, 0), "take_up": str(take_up), "bands": rows,
        "commitments": str(to_cents(total)),
        "budget": None if budget is None else str(to_cents(budget)),
        "budget_used": None if not budget else _share(total, Decimal(budget)),
        "over_budget": None if budget is None else total > budget,
        "expected_payments": str(to_cents(expected)) if rates else None,
        "outcome_rates": {k: str(v) for k, v in rates.items()},
        "outcome_basis": basis or None,
        "name": edition_name(policy),
        "provisional_amounts": [b.id for b in policy.bands if b.amount is None or b.amount.provisional],
    }
    return out


def _share(part, whole) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))


def compare(first: dict, second: dict, transitions: Counter) -> dict:
    """Who changes state between two editions, and what it does to commitments and the budget."""
    moves = [{"from": a, "to": b, "people": n} for (a, b), n in
             sorted(transitions.items(), key=lambda kv: (-kv[1], kv[0])) if a != b]
    delta = Decimal(second["commitments"]) - Decimal(first["commitments"])
    out = {"from": first["policy"], "to": second["policy"], "changed_people": sum(m["people"] for m in moves),
           "transitions": moves, "commitments_delta": str(to_cents(delta)),
           "eligible_delta": second["eligible"] - first["eligible"]}
    if first.get("outcome_basis") != second.get("outcome_basis"):
        # one edition pays outcomes by its own rule, the other the dote: the two figures are not the same thing
        out["expected_payments_comparable"] = False
    elif first.get("expected_payments") is not None and second.get("expected_payments") is not None:
        out["expected_payments_delta"] = str(to_cents(Decimal(second["expected_payments"])
                                                      - Decimal(first["expected_payments"])))
    if second["budget"] is not None:
        out["budget_left"] = str(to_cents(Decimal(second["budget"]) - Decimal(second["commitments"])))
    return out
