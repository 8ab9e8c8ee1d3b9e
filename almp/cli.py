"""The ``almp`` command line. Exit codes: 0 ok, 1 a policy or test failed, 2 bad usage or input."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

from engine.errors import AlmpError, InputErrors, PolicyErrors, PolicyNotFound
from engine.policy.registry import Registry, edition_files, find_root

DEFAULT_POLICIES = Path(os.environ.get("ALMP_POLICIES") or Path(__file__).resolve().parent.parent / "policies")
# Each area of the service adds its subcommands from its own module: register(sub, commands).


class UsageError(Exception):
    """Bad arguments or input: exit code 2."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _policies_root(args) -> Path:
    return Path(args.policies) if args.policies else DEFAULT_POLICIES


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
    paths = [Path(p) for p in (args.paths or [str(DEFAULT_POLICIES)])]
    status = 0
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        root = find_root(path)
        only = None if path.resolve() == root else [p.resolve() for p in edition_files(root)
                                                    if p.resolve() == path.resolve() or path.resolve() in p.parents]
        try:
            registry = Registry.load(root, only=only)
        except PolicyErrors as exc:
            for error in exc.errors:
                print(error.render(), file=sys.stderr)
            print(f"{len(exc.errors)} error(s)", file=sys.stderr)
            status = 1
            continue
        shown = [p for p in registry.policies if only is None or Path(p.bundle["policy_file"]).name and
                 (root / p.bundle["policy_file"]).resolve() in only]
        for policy in shown:
            holders = policy.placeholders
            doubtful = [f for f in policy.figures if f.status == "uncertain"]
            points = policy.document.get("uncertain", [])
            print(f"ok  {policy.key}  {policy.file}  ({len(policy.figures)} figures, "
                  f"{len(holders)} placeholder(s), {len(doubtful) + len(points)} uncertain)")
            for fig in holders:
                path_text = ".".join(str(p) for p in fig.path)
                print(f"      placeholder {path_text} = {fig.value}  (line {fig.location.line}): {fig.missing}")
            for fig in doubtful:  # seen in a source, but the source or the reading is in doubt
                path_text = ".".join(str(p) for p in fig.path)
                why = fig.missing or fig.note or f"source {fig.source}"
                print(f"      uncertain   {path_text} = {fig.value}  (line {fig.location.line}): {why}")
            for point in points:  # open points that are not figures (an act's number, a window's end)
                print(f"      uncertain   {point['about']}: {point['missing']}")
            for text in statement_gaps(policy, root):
                print(f"      warning: statement text missing: {text}")
    return status


def statement_gaps(policy, root) -> list[str]:
    """The texts a statement of reasons of this edition would lack (see engine.statement.coverage)."""
    from engine.statement.coverage import missing_texts
    from engine.statement import load_authorities
    return missing_texts(policy, load_authorities(root))


def cmd_test(args) -> int:
    from engine.avviso.policytests import run_tests
    paths = [Path(p) for p in (args.paths or [str(DEFAULT_POLICIES)])]
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
    registry = Registry.load(find_root(paths[0]))
    results = run_tests(paths, registry, _backend_factory(args.backend))
    for result in results:
        if not result.passed or args.verbose:
            print(result.render())
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed or not results else 0


def cmd_eval(args) -> int:
    from engine.decide.evaluate import evaluate
    registry = Registry.load(_policies_root(args))
    person = read_json(args.person)
    as_of = args.as_of or dt.date.today()
    policy = registry.get(args.policy, args.version, as_of)
    result = evaluate(policy, person, as_of, _backend_factory(args.backend)(policy))
    print(dump(result))
    if args.statement:
        from .cli_statement import eval_statement
        eval_statement(registry.root, policy, "eligibility", person, as_of, result, args.statement)
    return 0


COMMANDS = {"validate": cmd_validate, "test": cmd_test, "eval": cmd_eval}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="almp", description="Policy-as-code for Italian active labour-market "
                                                              "programmes.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check policy files; list placeholders")
    p.add_argument("paths", nargs="*", help="policy files or folders (default: the shipped policies)")

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
    from . import cli_avviso, cli_costs, cli_service, cli_statement
    for module in (cli_costs, cli_service, cli_avviso, cli_statement):
        module.register(sub, COMMANDS)
    return parser


def main(argv=None) -> int:
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
                print(f"error: {problem.as_dict()['path']}: {problem.message}", file=sys.stderr)
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    except PolicyErrors as exc:
        for error in exc.errors:
            print(error.render(), file=sys.stderr)
        return 1
    except AlmpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        from api.store.db import connection_problem
        problem = connection_problem(exc, getattr(args, "database", None))
        if problem is None:
            raise
        print(f"error: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
