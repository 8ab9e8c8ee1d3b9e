"""Launching a new avviso: new-avviso, diff, population synth, simulate, whatif."""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from almp.cli import UsageError, default_policies, dump, _date, print_errors
from engine import i18n
from engine.errors import PolicyErrors
from engine.i18n import N_, _, ngettext
from engine.policy.registry import Registry, edition_files, find_root


def _root(args) -> Path:
    return Path(args.policies) if getattr(args, "policies", None) else default_policies()


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
    p.add_argument("--workers", type=int, default=1, help="processes (default: 1; 0 for every core)")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    commands["whatif"] = cmd_whatif
    register_publication(sub, commands)


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
            raise UsageError(_("{spec}: no such policy file", spec=spec))
        return path
    ident, version = _split(spec, default_id)
    if not version:
        raise UsageError(_("'{spec}': give ID@VERSION (e.g. lombardia/dote-unica-lavoro@2013) or a policy file",
                           spec=spec))
    path = root / ident / f"{version}.yaml"
    if not path.is_file():
        folder = root / ident
        versions = sorted(p.stem for p in folder.glob("*.yaml") if not p.name.endswith(".tests.yaml")) \
            if folder.is_dir() else []
        raise UsageError(_("'{spec}': no file {path}", spec=spec, path=path) + " (" +
                         (_("versions: {versions}", versions=", ".join(versions)) if versions
                          else _("no programme '{ident}' under {root}", ident=ident, root=root)) + ")")
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
    raise UsageError(_("{path}: not an edition under {root}", path=path, root=policy_root))  # unreachable: load raised


# -- new-avviso -----------------------------------------------------------------------------------
def cmd_new_avviso(args) -> int:
    from engine.avviso import checklist
    from engine.avviso.scaffold import ScaffoldError, base_edition, new_edition
    root = _root(args).resolve()
    files = [p.resolve() for p in edition_files(root) if p.parent == root / args.policy]
    if not files:
        raise UsageError(_("no programme '{ident}' under {root}", ident=args.policy, root=root))
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
        print(_("note: version {version} starts on {start}; the draft ends on {end} (give --valid-to to change)",
                version=min(later, key=lambda p: p.valid_from).version,
                start=i18n.date(valid_to + dt.timedelta(days=1)), end=i18n.date(valid_to)))
    try:
        made = new_edition(root, base, args.version, args.valid_from, valid_to, args.apply_previous)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    name = i18n.edition_name(base)
    print(_("wrote {file} (draft, copied from {base}, in force from {start})", file=made.policy_path, base=name,
            start=i18n.date(args.valid_from)))
    if made.tests_path:
        print(_("wrote {file} (the test cases of {base}, for version {version}: check they still apply)",
                file=made.tests_path, base=name, version=args.version))
    base_file = root / base.bundle["policy_file"]
    if made.previous_applied:
        print(_("set {file}:{line}: valid_to: {end} (was {was})", file=base_file, line=made.previous_line,
                end=made.previous_valid_to, was=base.valid_to or _("open")))
    elif base.valid_to != made.previous_valid_to:
        print(_("proposal: end {base} the day before: {file}:{line}: valid_to: {end} (now {now}); run with "
                "--apply-previous to write it", base=name, file=base_file, line=made.previous_line or "-",
                end=made.previous_valid_to, now=base.valid_to or _("open")))
    else:
        print(_("{base} already ends on {end}, the day before: the periods are contiguous", base=name,
                end=i18n.date(base.valid_to)))
    path, items = checklist.write(made.policy_path, made.tests_path, f"{args.policy}@{args.version}",
                                  f"{args.policy}@{base.version}")
    print(ngettext("CHECKLIST: {n} item copied from {base} to confirm or change ({file}):",
                   "CHECKLIST: {n} items copied from {base} to confirm or change ({file}):", len(items), n=len(items),
                   base=name, file=path))
    for item in items:
        print("  - [ ] " + item.describe())
    try:
        Registry.load(root, only=[made.policy_path.resolve()])
    except PolicyErrors as exc:
        print_errors(exc.errors)
        print(_("the draft does not validate yet; fix the errors above or use --apply-previous"), file=sys.stderr)
        return 1
    print(_("ok: {file} validates. Next: edit it, then `almp diff {old} {new}`", file=made.policy_path,
            old=args.policy + "@" + base.version, new=args.policy + "@" + args.version))
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
            raise UsageError(_("{path}: not a policy (expected a mapping at the top level)", path=path))
        docs.append(plain(data))
    names = [_name(d, p) for d, p in zip(docs, (old_path, new_path))]
    changes = diff_documents(*docs)
    if args.json:
        print(dump(as_json(changes, *names)))
    else:
        try:
            dictionary = _dictionary(find_root(new_path.resolve()))
        except (PolicyErrors, UsageError):
            dictionary = None
        sys.stdout.write(render_text(changes, docs[0], docs[1], dictionary))
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
    from engine.avviso.synthetic import region_code, write_population
    if args.size < 1:
        raise UsageError(_("--size must be at least 1"))
    dictionary = _dictionary(_root(args))
    region = region_code(dictionary, args.region)
    if region is None:
        raise UsageError(_("--region '{region}' is not an Italian region (give its name, e.g. Lombardia, or its "
                           "code, e.g. lombardia)", region=args.region))
    args.region = region
    as_of = args.as_of or dt.date.today()
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(_("{path}: no such file or folder", path=out.parent))
    started = time.perf_counter()
    meta = write_population(dictionary, out, args.size, args.region, args.seed, as_of,
                            args.workers or os.cpu_count() or 1, _progress_bar("synth"))
    took = time.perf_counter() - started
    print(_("wrote {file}: {people} people, region {region}, seed {seed}, on {day} ({seconds} s); assumptions in "
            "{meta}", file=out, people=i18n.number(args.size), region=args.region, seed=args.seed,
            day=i18n.date(as_of), seconds=i18n.number(round(Decimal(took), 1)), meta=meta))
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
    print(_("{file}: {people} people, {bad} bad row(s)", file=path, people=i18n.number(people), bad=bad))
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
        raise UsageError(_("{file}: no such population file", file=population))
    try:
        take_up = Decimal(args.take_up)
    except InvalidOperation:
        raise UsageError(_("--take-up '{value}' is not a number", value=args.take_up)) from None
    if not take_up.is_finite() or not Decimal(0) <= take_up <= Decimal(1):
        raise UsageError(_("--take-up is a share between 0 and 1"))
    try:
        meta = read_meta(population)
    except PopulationError as exc:
        raise UsageError(str(exc)) from None
    as_of = args.as_of or _meta_date(meta)
    first = load_edition(args.policy, root, as_of)
    as_of = as_of or first.valid_from
    reference = _meta_date(meta)
    if reference and abs((as_of - reference).days) > 31:
        print(_("note: the population describes people on {reference}; evaluated on {day}, ages and durations "
                "shift by {days} days", reference=i18n.date(reference), day=i18n.date(as_of),
                days=(as_of - reference).days), file=sys.stderr)
    policies = [first]
    if args.compare:
        policies.append(load_edition(args.compare, root, as_of, default_id=first.id))
    result, mismatches = simulation(policies, population, meta, as_of, take_up, args.outcome_rate,
                                    args.outcome_rule, args.workers, args.sample)
    if args.report:
        from engine.avviso.report import render_report
        Path(args.report).write_text(render_report(result), encoding="utf-8")
    if args.json:
        print(dump(result))
    else:
        print(render_tables(result))
        if args.report:
            print(_("report: {file}", file=args.report))
    if mismatches:
        print(_("error: durable-rules and the reference backend disagree on {n} of {checked} people (first: line "
                "{line})", n=len(mismatches), checked=result["durable_check"]["people"], line=mismatches[0]["line"]),
              file=sys.stderr)
        return 1
    return 0


def simulation(policies, population: Path, meta: dict, as_of: dt.date, take_up: Decimal, rate_items,
               outcome_rule=None, workers=None, sample: int = 1000) -> tuple[dict, list]:
    """Run editions over a population: the result ``simulate --json`` prints, and the durable mismatches."""
    from engine.avviso import simulate as sim
    from engine.avviso.population import PopulationError
    try:
        rates = [sim.parse_rates(rate_items, p) for p in policies] if rate_items else [{}] * len(policies)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    started = time.perf_counter()
    try:
        tally = sim.run(policies, population, as_of, workers, _progress_bar("simulate"))
        checked, mismatches = sim.verify_sample(policies, population, as_of, sample) if sample else (0, [])
    except PopulationError as exc:
        raise UsageError(str(exc)) from None
    took = time.perf_counter() - started
    try:
        summaries = [sim.summarise(p, s, tally.people, r, take_up, outcome_rule)
                     for p, s, r in zip(policies, tally.states, rates)]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    result = {"population": str(population), "population_meta": meta or None, "as_of": as_of.isoformat(),
              "people": tally.people, "seconds": round(took, 2),
              "durable_check": {"people": checked, "mismatches": len(mismatches), "examples": mismatches[:5]},
              "editions": summaries}
    if len(policies) > 1:
        result["comparison"] = sim.compare(summaries[0], summaries[1], tally.transitions)
    return result, mismatches


def _euro(text) -> str:
    return "–" if text is None else i18n.money(Decimal(text))


def _pct(text) -> str:
    return "–" if text is None else i18n.percent(Decimal(text))


def _signed(text) -> str:
    value = Decimal(text)
    return ("+" if value >= 0 else "−") + _euro(abs(value))


_STATES = {"not eligible": N_("not eligible"), "no band": N_("no band")}


def state_name(state: str) -> str:
    """A simulation state in words: 'non ammissibile', 'senza fascia', 'fascia 3'."""
    return _(_STATES[state]) if state in _STATES else _("fascia {band}", band=state)


def basis_words(basis: str | None) -> str:
    if not basis:
        return "–"
    if basis.startswith("outcome:"):
        return _("the outcome payment by fascia of rule '{rule}'", rule=basis.split(":", 1)[1])
    return _("the dote value of the fascia")


def table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Rows aligned on the widest cell of each column (numbers to the right)."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "  " + "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                                for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [line(header), "  " + "  ".join("─" * w for w in widths)] + [line(r) for r in rows]


def render_tables(result: dict) -> str:
    check = result["durable_check"]
    lines = [_("population {file}: {people} people on {day} ({seconds} s; durable-rules check: {checked} people, "
               "{mismatches} mismatches)", file=result["population"], people=i18n.number(result["people"]),
               day=i18n.date(result["as_of"]), seconds=i18n.number(Decimal(str(result["seconds"]))),
               checked=i18n.number(check["people"]), mismatches=check["mismatches"])]
    for s in result["editions"]:
        lines.append("")
        lines.append(_("{name}: eligible {eligible} of {people} ({rate}); take-up assumed {take_up}",
                       name=s.get("name") or s["policy"], eligible=i18n.number(s["eligible"]),
                       people=i18n.number(s["people"]), rate=_pct(s["eligibility_rate"]),
                       take_up=_pct(s["take_up"])))
        rows = []
        for b in s["bands"]:
            flag = " *" if b["amount_status"] != "confirmed" else ""
            rows.append([_("fascia {band}", band=b["band"]) + " " + b["label"], i18n.number(b["people"]),
                         _euro(b["amount"]) + flag, _euro(b["commitments"]), _euro(b.get("expected_payments"))])
        rows.append([_("total"), i18n.number(s["eligible"] - s["no_band"]), "", _euro(s["commitments"]),
                     _euro(s["expected_payments"])])
        lines += table([_("fascia"), _("people"), _("dote"), _("commitments"), _("expected payments")], rows,
                       {1, 2, 3, 4})
        lines.append("  " + _("commitments = people × dote × take-up ({take_up})", take_up=_pct(s["take_up"])))
        if s["budget"] is not None:
            verdict = _("OVER BUDGET") if s["over_budget"] else _("within budget")
            lines.append("  " + _("budget {budget}: commitments use {used} ({verdict})", budget=_euro(s["budget"]),
                                  used=_pct(s["budget_used"]), verdict=verdict))
        if s["provisional_amounts"]:
            lines.append("  " + _("* not a confirmed figure (fasce {bands})", bands=", ".join(s["provisional_amounts"])))
        if s["outcome_rates"]:
            lines.append("  " + _("expected payments = people × take-up × outcome rate × {basis}; outcome rates "
                                  "assumed: {rates}", basis=basis_words(s["outcome_basis"]),
                                  rates=", ".join(f"{_('fascia {band}', band=k)} {_pct(v)}"
                                                  for k, v in s["outcome_rates"].items())))
    comp = result.get("comparison")
    if comp:
        names = {e["policy"]: e.get("name") or e["policy"] for e in result["editions"]}
        lines.append("")
        lines.append(_("{old} → {new}: {people} people change (eligible {delta}); commitments {commitments}",
                       old=names.get(comp["from"], comp["from"]), new=names.get(comp["to"], comp["to"]),
                       people=i18n.number(comp["changed_people"]),
                       delta=("+" if comp["eligible_delta"] >= 0 else "") + i18n.number(comp["eligible_delta"]),
                       commitments=_signed(comp["commitments_delta"]))
                     + ("; " + _("budget left {amount}", amount=_euro(comp["budget_left"]))
                        if "budget_left" in comp else ""))
        if comp.get("expected_payments_comparable") is False:
            lines.append("  " + _("expected payments are not compared: the two editions pay outcomes on "
                                  "different bases"))
        rows = [[state_name(m["from"]), "→", state_name(m["to"]), i18n.number(m["people"])]
                for m in comp["transitions"][:20]]
        if rows:
            lines += table([_("from"), "", _("to"), _("people")], rows, {3})
    return "\n".join(lines)


# -- whatif ---------------------------------------------------------------------------------------
def cmd_whatif(args) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from engine.avviso.whatif import WhatIfError, read_jsonl, summarise_changes, whatif
    root = _root(args)
    draft = load_edition(args.policy, root)
    if args.end < args.start:
        raise UsageError(_("--to is before --from"))
    try:
        if args.decisions:
            records = read_jsonl(Path(args.decisions), args.start, args.end, draft.id)
        else:
            records = _store_records(args, draft.id)
        outcome = whatif(draft, records, workers=args.workers or os.cpu_count() or 1)
    except WhatIfError as exc:
        raise UsageError(str(exc)) from None
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise UsageError(_("cannot read the decision store ({kind}); give --database URL or --decisions FILE.jsonl",
                           kind=exc.__class__.__name__)) from None
    summary = summarise_changes(outcome)
    summary.update({"draft": draft.key, "name": i18n.edition_name(draft), "from": args.start.isoformat(),
                    "to": args.end.isoformat()})
    if args.json:
        print(dump(summary))
    else:
        print(render_whatif(summary))
    return 0


def _store_records(args, policy_id: str):
    """Eligibility decisions of ``policy_id`` from the decision store whose application date (``as_of``) is
    in [--from, --to], whenever they were stored, as what-if records."""
    from engine.avviso.whatif import record_from
    if not (args.database or os.environ.get("ALMP_DATABASE_URL")) and not Path("almp.db").is_file():
        raise UsageError(_("no decision store here (no --database, no ALMP_DATABASE_URL, no ./almp.db): give "
                           "--database URL, or export decisions as JSONL and pass --decisions FILE.jsonl"))
    try:
        from api.store.repository import decisions_between
    except ImportError as exc:
        raise UsageError(_("the decision store is not available ({why}); export decisions as JSONL and pass "
                           "--decisions FILE.jsonl", why=exc)) from None
    out = []
    for d in decisions_between(args.database, dt.date(1900, 1, 1), dt.date(9999, 12, 30), policy_id,
                               kind="eligibility"):
        day = d["as_of"] if isinstance(d["as_of"], dt.date) else dt.date.fromisoformat(str(d["as_of"])[:10])
        if args.start <= day <= args.end:  # the application date, not the day it was stored
            out.append(record_from({"id": d["id"], "input": d["input"], "as_of": d["as_of"], "result": d["result"]},
                                   f"decision {d['id']}"))
    return out


def render_whatif(s: dict) -> str:
    lines = [_("{name}: {decisions} stored decisions with application date from {start} to {end}: {unchanged} "
               "unchanged, {changed} would change, {errors} could not be re-evaluated",
               name=s.get("name") or s["draft"], decisions=i18n.number(s["decisions"]), start=i18n.date(s["from"]),
               end=i18n.date(s["to"]), unchanged=i18n.number(s["unchanged"]), changed=i18n.number(s["changed"]),
               errors=i18n.number(s["errors"]))]
    rows = [[state_name(m["from"]), "→", state_name(m["to"]), i18n.number(m["people"])] for m in s["transitions"]]
    if rows:
        lines += table([_("from"), "", _("to"), _("decisions")], rows, {3})
    lines.append("  " + _("amount committed: {before} → {after} ({delta})", before=_euro(s["amount_before"]),
                          after=_euro(s["amount_after"]), delta=_signed(s["amount_delta"])))
    for err in s["error_examples"]:
        lines.append("  " + _("error: {message}", message=err))
    return "\n".join(lines)


# -- relazione tecnica and publication ------------------------------------------------------------
def _previous(policy, root: Path):
    """The edition in force just before ``policy`` (None for the first edition)."""
    from engine.avviso.scaffold import ScaffoldError, base_edition
    files = [p.resolve() for p in edition_files(root) if p.parent.resolve() == (root / policy.id).resolve()]
    try:
        registry = Registry.load(root, only=files)
        others = [p for p in registry.editions(policy.id) if p.version != policy.version]
        return base_edition(others, policy.valid_from)
    except (ScaffoldError, PolicyErrors):
        return None


def _region_of(policy, dictionary) -> str:
    from engine.avviso.synthetic import region_code
    words = policy.authority.replace("Regione", "").strip() if policy.authority else ""
    return region_code(dictionary, words) or region_code(dictionary, policy.id.split("/")[0]) or "lombardia"


def relazione(policy, root: Path, args, folder: Path) -> dict:
    """Simulate ``policy`` against the previous edition: the data of the relazione tecnica."""
    from engine.avviso.population import read_meta
    from engine.avviso.synthetic import write_population
    try:
        take_up = Decimal(args.take_up)
    except InvalidOperation:
        raise UsageError(_("--take-up '{value}' is not a number", value=args.take_up)) from None
    if not take_up.is_finite() or not Decimal(0) <= take_up <= Decimal(1):
        raise UsageError(_("--take-up is a share between 0 and 1"))
    as_of = policy.valid_from
    if args.population:
        population = Path(args.population)
        if not population.is_file():
            raise UsageError(_("{file}: no such population file", file=population))
        meta = read_meta(population)
        as_of = _meta_date(meta) or as_of
    else:
        dictionary = _dictionary(root)
        population = folder / "popolazione.csv"
        write_population(dictionary, population, args.size, _region_of(policy, dictionary), 1, as_of, 1)
        meta = read_meta(population)
    previous = _previous(policy, root)
    policies = [previous, policy] if previous is not None else [policy]
    result, _mismatches = simulation(policies, population, meta, as_of, take_up, args.outcome_rate,
                                     None, 1, min(args.size, 500))
    return result


def _report_args(p) -> None:
    p.add_argument("--population", help="CSV of person facts (default: a synthetic population of the region)")
    p.add_argument("--size", type=int, default=5000, help="people in the synthetic population (default 5000)")
    p.add_argument("--take-up", default="1", help="share of eligible people expected to apply (default 1)")
    p.add_argument("--outcome-rate", action="append", default=[], metavar="BAND=RATE",
                   help="share of doti of a band paid on outcome (repeat; *=RATE for every band)")
    p.add_argument("--policies", help="policies folder (default: ./policies, else the shipped policies)")


def cmd_report(args) -> int:
    import tempfile
    from engine.avviso.publish import read_record
    from engine.avviso.report import render_report, write_pdf
    root = _root(args)
    policy = load_edition(args.policy, root)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(_("{path}: no such file or folder", path=out.parent))
    with tempfile.TemporaryDirectory() as folder:
        result = relazione(policy, root, args, Path(folder))
    html = render_report(result, publication=read_record(Path(policy.file)) if policy.status == "published" else None)
    out.write_text(html, encoding="utf-8")
    print(_("wrote {file}", file=out))
    if not args.no_pdf:
        pdf = out.with_suffix(".pdf")
        write_pdf(html, pdf)
        print(_("wrote {file}", file=pdf))
    print(render_tables(result))
    return 0


def cmd_publish(args) -> int:
    import getpass
    import tempfile
    from engine.avviso import publish
    from engine.avviso.diff import diff_documents, render_text
    from engine.avviso.policytests import load_cases, run_tests
    from engine.avviso.report import render_report, write_pdf
    from almp.cli import _backend_factory
    root = _root(args)
    if "@" not in args.policy and not args.policy.endswith((".yaml", ".yml")):
        raise UsageError(_("'{spec}': give ID@VERSION (e.g. lombardia/dote-unica-lavoro@2013) or a policy file",
                           spec=args.policy))
    if not args.act_number.strip():
        raise UsageError(_("--act-number is required: the number of the act the edition is published under"))
    file = edition_path(args.policy, root).resolve()
    root = find_root(file)
    print(_("1. validate"))
    policy = load_edition(str(file), root)  # raises PolicyErrors: exit 1 with file:line
    name = i18n.edition_name(policy)
    print("   " + _("ok: {name}", name=name))
    print(_("2. test cases and rule coverage"))
    tests_file = file.with_name(f"{file.stem}.tests.yaml")
    results, cases = [], []
    if tests_file.is_file():
        registry = Registry.load(root, only=[file])
        results = run_tests([tests_file], registry, _backend_factory("reference"))
        cases = [case for case, _line, _pid, _version in load_cases(tests_file)]
    passed = sum(r.passed for r in results)
    print("   " + _("{passed} passed, {failed} failed", passed=passed, failed=len(results) - passed))
    reason = (args.allow_placeholders or "").strip() or None
    blockers = publish.blockers(policy, file, results, cases, reason)
    print(_("3. checklist and placeholders"))
    print("   " + ngettext("{n} placeholder", "{n} placeholders", len(policy.placeholders), n=len(policy.placeholders))
          + (" — " + _("allowed: {reason}", reason=reason) if reason and policy.placeholders else ""))
    print(_("4. changes from the previous edition"))
    previous = _previous(policy, root)
    if previous is not None:
        from engine.policy.compiler import plain
        from engine.policy.loader import load_file
        new_doc = plain(load_file(file).data)
        changes = diff_documents(previous.document, new_doc)
        text = render_text(changes, previous.document, new_doc, policy.dictionary)
        for line in text.splitlines()[:12]:
            print("   " + line)
        if len(text.splitlines()) > 12:
            print("   " + _("… (almp diff shows them all)"))
    else:
        print("   " + _("first edition of the programme"))
    if blockers:
        print(_("Publication refused: {n} reasons", n=len(blockers)), file=sys.stderr)
        for b in blockers:
            print(f"  - [{b.code}] {b.message}", file=sys.stderr)
        return 1
    print(_("5. simulation and relazione tecnica"))
    with tempfile.TemporaryDirectory() as folder:
        result = relazione(policy, root, args, Path(folder))
    record = publish.seal(policy, file, args.act_number.strip(), args.act_date,
                          args.by or os.environ.get("ALMP_USER") or getpass.getuser(), reason)
    html = render_report(result, publication=record)
    html_path = file.with_name(f"{file.stem}.relazione.html")
    html_path.write_text(html, encoding="utf-8")
    write_pdf(html, html_path.with_suffix(".pdf"))
    for line in render_tables(result).splitlines():
        print("   " + line)
    print(_("published: {name}, act {number} of {day}, by {who} at {when}; content hash {hash}", name=name,
            number=record["act"]["number"], day=i18n.date(record["act"]["date"]), who=record["published_by"],
            when=record["published_at"], hash=record["content_hash"]))
    print(_("wrote {file}", file=publish.record_path(file)))
    print(_("wrote {file}", file=html_path))
    print(_("wrote {file}", file=html_path.with_suffix(".pdf")))
    return 0


def register_publication(sub, commands) -> None:
    p = sub.add_parser("report", help="write the relazione tecnica of an edition (HTML and PDF)")
    p.add_argument("policy", help="ID@VERSION or a policy file")
    p.add_argument("--out", required=True, help="HTML file to write (the PDF goes beside it)")
    p.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    _report_args(p)
    commands["report"] = cmd_report

    p = sub.add_parser("publish", help="make a draft law: checks, publication record, relazione tecnica")
    p.add_argument("policy", help="ID@VERSION or a policy file")
    p.add_argument("--act-number", required=True, help="number of the act the edition is published under")
    p.add_argument("--act-date", required=True, type=_date, help="date of that act (YYYY-MM-DD)")
    p.add_argument("--by", help="who publishes (default: ALMP_USER, else the login name)")
    p.add_argument("--allow-placeholders", metavar="MOTIVO",
                   help="publish although figures are placeholders, for this stated reason")
    _report_args(p)
    commands["publish"] = cmd_publish
