"""Launching a new avviso: new-avviso, diff, population synth, simulate, whatif."""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from almp.cli import DEFAULT_POLICIES, UsageError, dump, _date
from engine.errors import PolicyErrors
from engine.policy.registry import Registry, edition_files, find_root


def _root(args) -> Path:
    return Path(args.policies) if getattr(args, "policies", None) else DEFAULT_POLICIES


def register(sub, commands) -> None:
    p = sub.add_parser("new-avviso", help="scaffold the next edition of a programme as a draft")
    p.add_argument("policy", help="authority/programme, e.g. lombardia/dote-unica-lavoro")
    p.add_argument("--version", required=True, help="the new edition's version (its file name)")
    p.add_argument("--valid-from", required=True, type=_date, help="first day of the new edition")
    p.add_argument("--valid-to", type=_date, help="last day (default: open)")
    p.add_argument("--from-version", help="copy this edition (default: the one in force just before)")
    p.add_argument("--apply-previous", action="store_true",
                   help="also set the previous edition's valid_to to the day before --valid-from")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    commands["new-avviso"] = cmd_new_avviso

    p = sub.add_parser("diff", help="what changed between two editions, ordered by effect")
    p.add_argument("old", help="ID@VERSION or a policy file")
    p.add_argument("new", help="ID@VERSION, @VERSION (same programme) or a policy file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    commands["diff"] = cmd_diff

    p = sub.add_parser("population", help="populations of job seekers for simulations")
    pop = p.add_subparsers(dest="population_command", required=True)
    s = pop.add_parser("synth", help="write a synthetic population (CSV + .meta.json sidecar)")
    s.add_argument("--size", type=int, required=True)
    s.add_argument("--region", default="lombardia")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--as-of", type=_date, help="reference date of ages and durations (default today)")
    s.add_argument("--out", required=True, help="CSV file to write")
    s.add_argument("--workers", type=int, help="processes (default: every core)")
    s.add_argument("--policies", help="policies folder (for the fact dictionary)")
    c = pop.add_parser("check", help="check a population file (header and every row) against the dictionary")
    c.add_argument("file")
    c.add_argument("--as-of", type=_date)
    c.add_argument("--policies", help="policies folder (for the fact dictionary)")
    commands["population"] = cmd_population

    p = sub.add_parser("simulate", help="eligibility, bands and cost of an edition over a population")
    p.add_argument("policy", help="ID, ID@VERSION or a policy file")
    p.add_argument("--population", required=True, help="CSV of person facts (see population synth)")
    p.add_argument("--compare", help="a second edition: @VERSION, ID@VERSION or a policy file")
    p.add_argument("--as-of", type=_date, help="evaluation date (default: the population's reference date, "
                                               "else the edition's valid_from)")
    p.add_argument("--outcome-rate", action="append", default=[], metavar="BAND=RATE",
                   help="share of doti of a band paid on outcome (repeat; *=RATE for every band)")
    p.add_argument("--outcome-rule", help="the edition's outcome rule whose by-band amounts an outcome pays "
                                          "(default: the first; without outcome rules, the band's dote)")
    p.add_argument("--take-up", default="1", help="share of eligible people expected to apply (default 1)")
    p.add_argument("--report", help="write a one-page HTML report here")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    p.add_argument("--workers", type=int, help="processes (default: every core)")
    p.add_argument("--sample", type=int, default=1000, help="people checked on durable-rules (default 1000)")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    commands["simulate"] = cmd_simulate

    p = sub.add_parser("whatif", help="re-evaluate stored decisions of a period under a draft edition")
    p.add_argument("policy", help="ID@DRAFT or a policy file")
    p.add_argument("--from", dest="start", type=_date, required=True)
    p.add_argument("--to", dest="end", type=_date, required=True)
    p.add_argument("--decisions", help="JSONL export of decisions (default: the decision store)")
    p.add_argument("--database", help="database URL of the decision store (default: ALMP_DATABASE_URL)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    commands["whatif"] = cmd_whatif


# -- resolving editions ---------------------------------------------------------------------------
def _split(spec: str, default_id: str | None = None) -> tuple[str, str | None]:
    ident, sep, version = spec.partition("@")
    if not ident and default_id:
        ident = default_id
    return ident, (version or None) if sep else None


def edition_path(spec: str, root: Path, default_id: str | None = None) -> Path:
    """The file of ``spec``: a path to a policy file, or ID@VERSION under ``root``."""
    if spec.endswith((".yaml", ".yml")) or os.sep in spec and Path(spec).is_file():
        path = Path(spec)
        if not path.is_file():
            raise UsageError(f"{spec}: no such policy file")
        return path
    ident, version = _split(spec, default_id)
    if not version:
        raise UsageError(f"'{spec}': give ID@VERSION (e.g. lombardia/dote-unica-lavoro@2013) or a policy file")
    path = root / ident / f"{version}.yaml"
    if not path.is_file():
        folder = root / ident
        versions = sorted(p.stem for p in folder.glob("*.yaml") if not p.name.endswith(".tests.yaml")) \
            if folder.is_dir() else []
        raise UsageError(f"'{spec}': no file {path}" + (f" (versions: {', '.join(versions)})" if versions
                                                         else f" (no programme '{ident}' under {root})"))
    return path


def load_edition(spec: str, root: Path, as_of: dt.date | None = None, default_id: str | None = None):
    """Compile one edition (checked); other editions' problems do not block it."""
    if "@" not in spec and not spec.endswith((".yaml", ".yml")):
        registry = Registry.load(root, only=[p.resolve() for p in edition_files(root)
                                             if p.parent == (root / spec)])
        editions = registry.editions(spec)
        if as_of is not None:
            return registry.get(spec, as_of=as_of)
        live = [p for p in editions if p.status != "draft"] or editions
        return live[-1]
    path = edition_path(spec, root, default_id).resolve()
    policy_root = find_root(path)
    registry = Registry.load(policy_root, only=[path])
    for policy in registry.policies:
        if (policy_root / policy.bundle["policy_file"]).resolve() == path:
            return policy
    raise UsageError(f"{path}: not an edition under {policy_root}")  # unreachable: load raised


# -- new-avviso -----------------------------------------------------------------------------------
def cmd_new_avviso(args) -> int:
    from engine.avviso.scaffold import ScaffoldError, base_edition, new_edition
    root = _root(args).resolve()
    files = [p.resolve() for p in edition_files(root) if p.parent == root / args.policy]
    registry = Registry.load(root, only=files)
    editions = registry.editions(args.policy)
    if args.from_version:
        base = registry.get(args.policy, args.from_version)
    else:
        try:
            base = base_edition(editions, args.valid_from)
        except ScaffoldError as exc:
            raise UsageError(str(exc)) from None
    valid_to = args.valid_to
    later = [p for p in editions if p.valid_from > args.valid_from]
    if valid_to is None and later:
        # an open window would overlap the next edition: end the draft the day before it starts
        valid_to = min(p.valid_from for p in later) - dt.timedelta(days=1)
        print(f"note: version {min(later, key=lambda p: p.valid_from).version} starts on "
              f"{valid_to + dt.timedelta(days=1)}; the draft ends on {valid_to} (give --valid-to to change)")
    try:
        made = new_edition(root, base, args.version, args.valid_from, valid_to, args.apply_previous)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {made.policy_path} (draft, copied from version {base.version}, valid from {args.valid_from})")
    if made.tests_path:
        print(f"wrote {made.tests_path} (the cases of {base.version}, pinned to {args.version})")
    base_file = root / base.bundle["policy_file"]
    if made.previous_applied:
        print(f"set {base_file}:{made.previous_line}: valid_to: {made.previous_valid_to} "
              f"(was {base.valid_to or 'open'})")
    elif base.valid_to != made.previous_valid_to:
        print(f"proposal: end version {base.version} the day before: {base_file}:{made.previous_line or '-'}: "
              f"valid_to: {made.previous_valid_to} (now {base.valid_to or 'open'}); "
              f"run with --apply-previous to write it")
    else:
        print(f"version {base.version} already ends on {base.valid_to}, the day before: windows are contiguous")
    try:
        Registry.load(root, only=[made.policy_path.resolve()])
    except PolicyErrors as exc:
        for error in exc.errors:
            print(error.render(), file=sys.stderr)
        print(f"the draft does not validate yet ({len(exc.errors)} error(s)); fix them or use --apply-previous",
              file=sys.stderr)
        return 1
    print(f"ok: {made.policy_path} validates. Next: edit it, then `almp diff {args.policy}@{base.version} "
          f"{args.policy}@{args.version}`")
    return 0


# -- diff -----------------------------------------------------------------------------------------
def cmd_diff(args) -> int:
    from engine.values import plain
    from engine.avviso.diff import as_json, diff_documents, render_text
    from engine.policy.loader import load_file
    root = _root(args)
    old_path = edition_path(args.old, root)
    default_id = _split(args.old)[0] if "@" in args.old else None
    new_path = edition_path(args.new, root, default_id)
    docs = []
    for path in (old_path, new_path):
        data = load_file(path).data
        if not isinstance(data, dict):
            raise UsageError(f"{path}: not a policy (expected a mapping at the top level)")
        docs.append(plain(data))
    names = [_name(d, p) for d, p in zip(docs, (old_path, new_path))]
    changes = diff_documents(*docs)
    if args.json:
        print(dump(as_json(changes, *names)))
    else:
        sys.stdout.write(render_text(changes, *names))
    return 0


def _name(doc: dict, path: Path) -> str:
    return f"{doc.get('id', path.parent.name)}@{doc.get('version', path.stem)}"


# -- population -----------------------------------------------------------------------------------
def _dictionary(root: Path):
    from engine.policy.facts import load_dictionary
    from engine.policy.registry import FACTS_FILE
    return load_dictionary(root / FACTS_FILE)


def cmd_population(args) -> int:
    if args.population_command == "synth":
        return _synth(args)
    return _check(args)


def _synth(args) -> int:
    from engine.avviso.synthetic import write_population
    if args.size < 1:
        raise UsageError("--size must be at least 1")
    as_of = args.as_of or dt.date.today()
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent}: no such folder")
    started = time.perf_counter()
    meta = write_population(_dictionary(_root(args)), out, args.size, args.region, args.seed, as_of,
                            args.workers or os.cpu_count() or 1, _progress_bar("synth"))
    took = time.perf_counter() - started
    print(f"wrote {out}: {args.size} people, region {args.region}, seed {args.seed}, as of {as_of} "
          f"({took:.1f} s); assumptions in {meta}")
    return 0


def _check(args) -> int:
    from engine.avviso.population import PopulationError, RowReader, read_header, read_meta
    from engine.avviso.simulate import records
    path = Path(args.file)
    dictionary = _dictionary(_root(args))
    as_of = args.as_of or _meta_date(read_meta(path)) or dt.date.today()
    try:
        header = read_header(path)
        inputs = [n for n, f in dictionary.facts.items() if f.of("person") and not f.computed]
        reader = RowReader(dictionary, header, set(header) & set(inputs), as_of, str(path))
        bad, people = 0, 0
        for at, row in records(path):
            people += 1
            try:
                reader.env(row, at)
            except PopulationError as exc:
                bad += 1
                if bad <= 20:
                    print(exc, file=sys.stderr)
    except PopulationError as exc:
        raise UsageError(str(exc)) from None
    print(f"{path}: {people} people, {bad} bad row(s)")
    return 2 if bad else 0


def _meta_date(meta: dict) -> dt.date | None:
    try:
        return dt.date.fromisoformat(meta["as_of"]) if meta.get("as_of") else None
    except (TypeError, ValueError):
        return None


def _progress_bar(label: str):
    if not sys.stderr.isatty():
        return None
    started = time.perf_counter()

    def show(done: int, total: int) -> None:
        share = min(done / total, 1.0) if total else 1.0
        width = 30
        filled = int(share * width)
        elapsed = time.perf_counter() - started
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {share:6.1%}  {elapsed:5.1f} s")
        if share >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


# -- simulate -------------------------------------------------------------------------------------
def cmd_simulate(args) -> int:
    from engine.avviso import simulate as sim
    from engine.avviso.population import PopulationError, read_meta
    root = _root(args)
    population = Path(args.population)
    if not population.is_file():
        raise UsageError(f"{population}: no such population file")
    try:
        take_up = Decimal(args.take_up)
    except InvalidOperation:
        raise UsageError(f"--take-up '{args.take_up}' is not a number") from None
    if not take_up.is_finite() or not Decimal(0) <= take_up <= Decimal(1):
        raise UsageError("--take-up is a share between 0 and 1")
    try:
        meta = read_meta(population)
    except PopulationError as exc:
        raise UsageError(str(exc)) from None
    as_of = args.as_of or _meta_date(meta)
    first = load_edition(args.policy, root, as_of)
    as_of = as_of or first.valid_from
    reference = _meta_date(meta)
    if reference and abs((as_of - reference).days) > 31:
        print(f"note: the population describes people on {reference}; evaluated on {as_of}, ages and "
              f"durations shift by {(as_of - reference).days} days", file=sys.stderr)
    policies = [first]
    if args.compare:
        policies.append(load_edition(args.compare, root, as_of, default_id=first.id))
    try:
        rates = [sim.parse_rates(args.outcome_rate, p) for p in policies] if args.outcome_rate else [{}] * len(policies)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    started = time.perf_counter()
    try:
        tally = sim.run(policies, population, as_of, args.workers, _progress_bar("simulate"))
        checked, mismatches = sim.verify_sample(policies, population, as_of, args.sample) if args.sample else (0, [])
    except PopulationError as exc:
        raise UsageError(str(exc)) from None
    took = time.perf_counter() - started
    try:
        summaries = [sim.summarise(p, s, tally.people, r, take_up, args.outcome_rule)
                     for p, s, r in zip(policies, tally.states, rates)]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    result = {"population": str(population), "population_meta": meta or None, "as_of": as_of.isoformat(),
              "people": tally.people, "seconds": round(took, 2),
              "durable_check": {"people": checked, "mismatches": len(mismatches), "examples": mismatches[:5]},
              "editions": summaries}
    if args.compare:
        result["comparison"] = sim.compare(summaries[0], summaries[1], tally.transitions)
    if args.report:
        from engine.avviso.report import render_report
        Path(args.report).write_text(render_report(result), encoding="utf-8")
    if args.json:
        print(dump(result))
    else:
        print(render_tables(result))
        if args.report:
            print(f"report: {args.report}")
    if mismatches:
        print(f"error: durable-rules and the reference backend disagree on {len(mismatches)} of {checked} people "
              f"(first: line {mismatches[0]['line']})", file=sys.stderr)
        return 1
    return 0


def _euro(text) -> str:
    if text is None:
        return "-"
    value = Decimal(text)
    return f"€ {value:,.2f}"


def _pct(text) -> str:
    return "-" if text is None else f"{Decimal(text) * 100:.1f}%"


def render_tables(result: dict) -> str:
    lines = [f"population {result['population']}: {result['people']:,} people, as of {result['as_of']} "
             f"({result['seconds']} s; durable-rules check: {result['durable_check']['people']} people, "
             f"{result['durable_check']['mismatches']} mismatch(es))"]
    for s in result["editions"]:
        lines.append("")
        lines.append(f"{s['policy']}: eligible {s['eligible']:,} of {s['people']:,} ({_pct(s['eligibility_rate'])})"
                     + (f", take-up {_pct(s['take_up'])}" if Decimal(s["take_up"]) != 1 else ""))
        lines.append(f"  {'fascia':<22} {'people':>10} {'dote':>14} {'commitments':>20} {'expected payments':>20}")
        for b in s["bands"]:
            flag = "*" if b["amount_status"] != "confirmed" else " "
            lines.append(f"  {b['band'] + ' ' + b['label']:<22} {b['people']:>10,} {_euro(b['amount']):>13}{flag} "
                         f"{_euro(b['commitments']):>20} {_euro(b.get('expected_payments')):>20}")
        lines.append(f"  {'total':<22} {s['eligible'] - s['no_band']:>10,} {'':>14} {_euro(s['commitments']):>20} "
                     f"{_euro(s['expected_payments']):>20}")
        if s["budget"] is not None:
            verdict = "OVER BUDGET" if s["over_budget"] else "within budget"
            lines.append(f"  budget {_euro(s['budget'])}: commitments use {_pct(s['budget_used'])} ({verdict})")
        if s["provisional_amounts"]:
            lines.append(f"  * not a confirmed figure (fasce {', '.join(s['provisional_amounts'])})")
        if s["outcome_rates"]:
            lines.append("  outcome rates assumed: " + ", ".join(f"{k}={v}" for k, v in s["outcome_rates"].items())
                         + f"; one outcome pays {s['outcome_basis']}")
    comp = result.get("comparison")
    if comp:
        lines.append("")
        lines.append(f"{comp['from']} → {comp['to']}: {comp['changed_people']:,} people change "
                     f"(eligible {comp['eligible_delta']:+,}); commitments {_signed(comp['commitments_delta'])}"
                     + (f"; budget left {_euro(comp['budget_left'])}" if "budget_left" in comp else ""))
        for move in comp["transitions"][:20]:
            lines.append(f"  {_state(move['from']):>16} → {_state(move['to']):<16} {move['people']:>10,}")
    return "\n".join(lines)


def _signed(text) -> str:
    value = Decimal(text)
    return ("+" if value >= 0 else "-") + _euro(abs(value))


def _state(state: str) -> str:
    return state if state in ("not eligible", "no band") else f"fascia {state}"


# -- whatif ---------------------------------------------------------------------------------------
def cmd_whatif(args) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from engine.avviso.whatif import WhatIfError, read_jsonl, summarise_changes, whatif
    root = _root(args)
    draft = load_edition(args.policy, root)
    if args.end < args.start:
        raise UsageError("--to is before --from")
    try:
        if args.decisions:
            records = read_jsonl(Path(args.decisions), args.start, args.end, draft.id)
        else:
            records = _store_records(args, draft.id)
        outcome = whatif(draft, records)
    except WhatIfError as exc:
        raise UsageError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise UsageError(f"cannot read the decision store: {exc.__class__.__name__}: {exc}".splitlines()[0]) \
            from None
    summary = summarise_changes(outcome)
    summary.update({"draft": draft.key, "from": args.start.isoformat(), "to": args.end.isoformat()})
    if args.json:
        print(dump(summary))
    else:
        print(render_whatif(summary))
    return 0


def _store_records(args, policy_id: str):
    """Eligibility decisions of ``policy_id`` from the decision store, as what-if records."""
    from api.store.repository import decisions_between
    from engine.avviso.whatif import record_from
    return [record_from({"id": d["id"], "input": d["input"], "as_of": d["as_of"], "result": d["result"]},
                        f"decision {d['id']}")
            for d in decisions_between(args.database, args.start, args.end, policy_id, kind="eligibility")]


def render_whatif(s: dict) -> str:
    lines = [f"{s['draft']}: {s['decisions']:,} stored decision(s) from {s['from']} to {s['to']}; "
             f"{s['changed']:,} would change, {s['errors']:,} could not be re-evaluated"]
    for move in s["transitions"]:
        lines.append(f"  {_state(move['from']):>16} → {_state(move['to']):<16} {move['people']:>8,}")
    lines.append(f"  amount committed: {_euro(s['amount_before'])} → {_euro(s['amount_after'])} "
                 f"({_signed(s['amount_delta'])})")
    for err in s["error_examples"]:
        lines.append(f"  error: {err}")
    return "\n".join(lines)
