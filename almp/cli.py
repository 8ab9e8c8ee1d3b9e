"""The ``almp`` command line. Exit codes: 0 ok, 1 a policy or test failed, 2 bad usage or input."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

from engine import i18n
from engine.errors import AlmpError, InputErrors, PolicyErrors, PolicyNotFound
from engine.i18n import _, ngettext
from engine.policy.registry import Registry, edition_files, find_root

SHIPPED_POLICIES = Path(__file__).resolve().parent.parent / "policies"
DEFAULT_POLICIES = Path(os.environ.get("ALMP_POLICIES") or SHIPPED_POLICIES)  # kept for importers; prefer the function


def default_policies() -> Path:
    """ALMP_POLICIES, else ./policies when the working directory has one (an officer's checkout), else the
    policies shipped with almp."""
    if os.environ.get("ALMP_POLICIES"):
        return Path(os.environ["ALMP_POLICIES"])
    here = Path("policies")
    if here.is_dir():
        return here
    return SHIPPED_POLICIES
# Each area of the service adds its subcommands from its own module: register(sub, commands).


class UsageError(Exception):
    """Bad arguments or input: exit code 2."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _policies_root(args) -> Path:
    return Path(args.policies) if args.policies else default_policies()


def read_json(path: str):
    """Read a JSON input file; numbers with a fraction stay exact (Decimal)."""
    try:
        with (sys.stdin if path == "-" else open(path, encoding="utf-8")) as fh:
            return json.load(fh, parse_float=Decimal)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


def dump(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def _backend_factory(name: str):
    if name == "reference":
        from engine.decide.backends import ReferenceBackend
        return ReferenceBackend
    from engine.decide.durable import DurableBackend
    return DurableBackend.for_policy


# -- commands ---------------------------------------------------------------------------------
def cmd_validate(args) -> int:
    from engine.avviso import checklist
    from engine.avviso.publish import check_sealed
    paths = [Path(p) for p in (args.paths or [str(default_policies())])]
    status = 0
    for path in paths:
        if not path.exists():
            raise UsageError(_("{path}: no such file or folder", path=path))
        root = find_root(path)
        only = None if path.resolve() == root else [p.resolve() for p in edition_files(root)
                                                    if p.resolve() == path.resolve() or path.resolve() in p.parents]
        try:
            registry = Registry.load(root, only=only)
        except PolicyErrors as exc:
            print_errors(exc.errors)
            status = 1
            continue
        shown = [p for p in registry.policies if only is None or Path(p.bundle["policy_file"]).name and
                 (root / p.bundle["policy_file"]).resolve() in only]
        _facts_note(root, registry, getattr(args, "accept_facts", False))
        for policy in shown:
            file = root / policy.bundle["policy_file"]
            errors, notes = check_sealed(policy, file)
            if errors:
                print_errors(errors)
                status = 1
                continue
            holders = policy.placeholders
            doubtful = [f for f in policy.figures if f.status == "uncertain"]
            points = policy.document.get("uncertain", [])
            print(_("ok  {name} ({key})  {file}  ({figures} figures, {placeholders} placeholder(s), "
                    "{uncertain} uncertain)", name=i18n.edition_name(policy), key=policy.key, file=policy.file,
                    figures=len(policy.figures), placeholders=len(holders), uncertain=len(doubtful) + len(points)))
            for fig in holders:
                path_text = ".".join(str(p) for p in fig.path)
                print("      " + _("placeholder {path} = {value}  (line {line}): {missing}", path=path_text,
                                   value=fig.value, line=fig.location.line, missing=fig.missing))
            for fig in doubtful:  # seen in a source, but the source or the reading is in doubt
                path_text = ".".join(str(p) for p in fig.path)
                why = fig.missing or fig.note or _("source {source}", source=fig.source)
                print("      " + _("uncertain   {path} = {value}  (line {line}): {why}", path=path_text,
                                   value=fig.value, line=fig.location.line, why=why))
            for point in points:  # open points that are not figures (an act's number, a window's end)
                print("      " + _("uncertain   {about}: {missing}", about=point["about"], missing=point["missing"]))
            for text in statement_gaps(policy, root):
                print("      " + _("warning: statement text missing: {text}", text=text))
            for item in checklist.pending(file):
                print("      " + _("warning: to confirm (CHECKLIST): {item}", item=item))
            for note in notes:
                print("      " + _("note: {note}", note=note))
    return status


def statement_gaps(policy, root) -> list[str]:
    """The texts a statement of reasons of this edition would lack (see engine.statement.coverage)."""
    from engine.statement.coverage import missing_texts
    from engine.statement import load_authorities
    return missing_texts(policy, load_authorities(root))
def _facts_note(root: Path, registry, accept: bool) -> None:
    """Say which editions get a new content hash when the fact dictionary changed (never silently)."""
    from engine.avviso.publish import facts_change, facts_lock_path
    recorded, current, editions = facts_change(root, registry.policies)
    if accept or not facts_lock_path(root).is_file():
        try:
            facts_lock_path(root).write_text(current + "\n", encoding="utf-8")
        except OSError:
            pass  # a read-only install: nothing to record, nothing to compare with
        return
    if recorded:
        print(ngettext("note: the fact dictionary changed ({old} → {new}): {n} edition gets a new content hash: "
                       "{names}", "note: the fact dictionary changed ({old} → {new}): {n} editions get a new "
                       "content hash: {names}", len(editions), old=recorded[:15], new=current[:15], n=len(editions),
                       names=", ".join(p.key for p in editions)))
        print("      " + _("decisions already taken keep the old hash; run `almp validate --accept-facts` to "
                          "record the new dictionary"))




def print_errors(errors) -> None:
    for error in errors:
        print(i18n.render_error(error), file=sys.stderr)
    print(ngettext("{n} error", "{n} errors", len(errors), n=len(errors)), file=sys.stderr)


def cmd_test(args) -> int:
    from engine.avviso.policytests import run_tests
    paths = [Path(p) for p in (args.paths or [str(default_policies())])]
    for path in paths:
        if not path.exists():
            raise UsageError(_("{path}: no such file or folder", path=path))
    registry = Registry.load(find_root(paths[0]))
    results = run_tests(paths, registry, _backend_factory(args.backend))
    for result in results:
        if not result.passed or args.verbose:
            print(result.render())
    failed = sum(not r.passed for r in results)
    print(_("{passed} passed, {failed} failed", passed=len(results) - failed, failed=failed))
    return 1 if failed or not results else 0


def cmd_eval(args) -> int:
    from engine.decide.partial import evaluate_available
    registry = Registry.load(_policies_root(args))
    person = read_json(args.person)
    as_of = args.as_of or dt.date.today()
    policy = registry.get(args.policy, args.version, as_of)
    # facts left out are unknown: the answer may be "undetermined", naming what to ask next
    result = evaluate_available(policy, person, as_of, args.backend)
    print(dump(result))
    if args.statement:
        from .cli_statement import eval_statement
        eval_statement(registry.root, policy, "eligibility", person, as_of, result, args.statement)
    return 0


COMMANDS = {"validate": cmd_validate, "test": cmd_test, "eval": cmd_eval}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="almp", description=_("Policy-as-code for Italian active labour-market "
                                                                "programmes."),
                                     epilog=_("Every command takes --lang it|en (default: Italian, or LANG)."))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check policy files; list placeholders")
    p.add_argument("paths", nargs="*", help="policy files or folders (default: ./policies, else the shipped ones)")
    p.add_argument("--accept-facts", action="store_true",
                   help="record the current fact dictionary as known (its hash goes in national/facts.lock)")

    p = sub.add_parser("test", help="run the test cases beside the policies")
    p.add_argument("paths", nargs="*")
    p.add_argument("-v", "--verbose", action="store_true", help="show passing cases too")
    p.add_argument("--backend", choices=["durable", "reference"], default="durable")

    p = sub.add_parser("eval", help="evaluate a person (or partnership) against a programme")
    p.add_argument("policy", help="authority/programme, e.g. lombardia/dote-unica-lavoro")
    p.add_argument("--person", "--subject", dest="person", required=True, metavar="FILE",
                   help="JSON file with the subject's facts: a person, or a partnership for programmes "
                        "with subject: partnership (- for stdin); --subject is an alias")
    p.add_argument("--as-of", type=_date, help="evaluation date (default today)")
    p.add_argument("--version", help="pin an edition instead of choosing by date")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    p.add_argument("--backend", choices=["durable", "reference"], default="durable")
    p.add_argument("--statement", metavar="FILE", help="also write its statement of reasons, marked as not a "
                                                       "decision (format from the extension: .pdf .html .odt .json)")
    # Imported here: each command module imports this one for its shared helpers.
    from . import cli_avviso, cli_costs, cli_privacy, cli_screen, cli_service, cli_statement
    for module in (cli_costs, cli_service, cli_privacy, cli_avviso, cli_statement, cli_screen):
        module.register(sub, COMMANDS)
    return parser


def _take_language(argv: list[str]) -> tuple[list[str], str | None]:
    """Remove ``--lang X`` / ``--lang=X`` from anywhere in the arguments (every command takes it)."""
    out, lang, i = [], None, 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--lang" and i + 1 < len(argv):
            lang, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--lang="):
            lang, i = arg.split("=", 1)[1], i + 1
            continue
        out.append(arg)
        i += 1
    return out, lang


def main(argv=None) -> int:
    argv, lang = _take_language(list(sys.argv[1:] if argv is None else argv))
    try:
        scope = i18n.using(lang)
        scope.__enter__()
    except i18n.LanguageError as exc:
        print(_("error: {message}", message=exc), file=sys.stderr)
        return 2
    try:
        return _run(argv)
    finally:
        scope.__exit__(None, None, None)


def _run(argv) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a reader that went away shows up here, not in the interpreter's exit flush
        return code
    except BrokenPipeError:
        # `almp eval ... | head`: the reader closed the pipe; that is not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a writer ended by SIGPIPE (128 + 13)
    except (UsageError, InputErrors, PolicyNotFound) as exc:
        if isinstance(exc, InputErrors):
            for problem in exc.problems:
                print(_("error: {path}: {message}", path=problem.as_dict()["path"], message=problem.message),
                      file=sys.stderr)
        else:
            print(_("error: {message}", message=exc), file=sys.stderr)
        return 2
    except PolicyErrors as exc:
        print_errors(exc.errors)
        return 1
    except AlmpError as exc:
        print(_("error: {message}", message=exc), file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader (e.g. `| head`) went away: nothing left to say
        return 0
    except (OSError, UnicodeError) as exc:
        print(_("error: {message}", message=exc.__class__.__name__ + ": " + str(exc)), file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - an officer never sees a traceback; ALMP_DEBUG=1 shows it
        problem = _database_problem(exc, args)
        if problem is not None:
            print(_("error: {message}", message=problem), file=sys.stderr)
            return 2
        if os.environ.get("ALMP_DEBUG"):
            raise
        print(_("internal error (internal_error): {kind}: {message}; please report it with the command you ran "
                "(ALMP_DEBUG=1 shows the details)", kind=exc.__class__.__name__, message=exc), file=sys.stderr)
        return 1


def _database_problem(exc: BaseException, args) -> str | None:
    """One line on an unreachable or missing database, for the commands that open one."""
    try:
        from api.store.db import connection_problem
    except ImportError:  # the engine-only install has no database layer
        return None
    return connection_problem(exc, getattr(args, "database", None))


if __name__ == "__main__":
    # ``python -m almp.cli`` runs this file as __main__, a second copy of the module: the command
    # modules raise almp.cli's UsageError, which this copy's would not catch (an internal error instead)
    from almp.cli import main as _main
    sys.exit(_main())
