"""``almp cost`` (price a personalised plan) and ``almp claim`` (price a claim). JSON out.

Exit codes as ``almp eval``: 0 priced (violations are part of the answer), 2 bad usage or
input (each problem on stderr with its JSON path), 1 a policy failed to load.
"""
from __future__ import annotations

import datetime as dt

from engine.costs.claims import price_claim
from engine.costs.plans import cost_plan
from engine.policy.registry import Registry

from .cli import _backend_factory, _date, _policies_root, dump, read_json


def cmd_cost(args) -> int:
    registry = Registry.load(_policies_root(args))
    plan = read_json(args.plan)
    as_of = args.as_of or dt.date.today()
    policy = registry.get(args.policy, args.version, as_of)
    result = cost_plan(policy, plan, as_of, _backend_factory(args.backend)(policy))
    print(dump(result))
    if args.statement:
        from .cli_statement import eval_statement
        eval_statement(registry.root, policy, "plan", plan, as_of, result, args.statement)
    return 0


def cmd_claim(args) -> int:
    from engine.errors import InputErrors, InputProblem
    from engine.costs.pricing import Reader
    registry = Registry.load(_policies_root(args))
    claim = read_json(args.claim)
    start = None
    if isinstance(claim, dict) and "start_date" in claim:
        reader = Reader()
        start = reader.date(claim["start_date"], ("start_date",))
        reader.check()
    elif args.version is None:
        raise InputErrors([InputProblem(("start_date",), "missing_field", "'start_date' is required")])
    # The edition is the one in force when the dote or voucher started.
    policy = registry.get(args.policy, args.version, start)
    result = price_claim(policy, claim, _backend_factory(args.backend)(policy))
    print(dump(result))
    if args.statement:
        from .cli_statement import eval_statement
        eval_statement(registry.root, policy, "claim", claim, start or policy.valid_from, result, args.statement)
    return 0


def register(sub, commands) -> None:
    p = sub.add_parser("cost", help="price a personalised plan (services chosen) against a programme's basket")
    p.add_argument("policy", help="authority/programme, e.g. national/assegno-di-ricollocazione")
    p.add_argument("--plan", required=True, help="JSON file: {person, services: [{code, quantity, delivery}]} "
                                                 "(- for stdin)")
    p.add_argument("--as-of", type=_date, help="date of the plan (default today)")
    p.add_argument("--version", help="pin an edition instead of choosing by date")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    p.add_argument("--backend", choices=["durable", "reference"], default="durable")
    _statement_arg(p)
    commands["cost"] = cmd_cost

    p = sub.add_parser("claim", help="price a claim: services delivered and employment outcome")
    p.add_argument("policy", help="authority/programme")
    p.add_argument("--claim", required=True, help="JSON file: {person, start_date, services, outcome} (- for stdin)")
    p.add_argument("--version", help="pin an edition instead of the one in force at start_date")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    p.add_argument("--backend", choices=["durable", "reference"], default="durable")
    _statement_arg(p)
    commands["claim"] = cmd_claim


def _statement_arg(p) -> None:
    p.add_argument("--statement", metavar="FILE", help="also write its statement of reasons, marked as not a "
                                                       "decision (format from the extension: .pdf .html .odt .json)")
