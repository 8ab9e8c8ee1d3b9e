"""``almp screen``: every programme a person may get on a date, eligible first (Italian by default)."""
from __future__ import annotations

import sys
from decimal import Decimal

from almp.cli import _date, _policies_root, dump, read_json

OUTCOME_IT = {"eligible": "ammissibile", "not_eligible": "non ammissibile", "undetermined": "da determinare"}
OUTCOME_EN = {"eligible": "eligible", "not_eligible": "not eligible", "undetermined": "undetermined"}


def register(sub, commands) -> None:
    p = sub.add_parser("screen", help="screen a person against every programme in force on a date")
    p.add_argument("--person", required=True, metavar="FILE", help="JSON file with the facts you have (- for stdin)")
    p.add_argument("--as-of", type=_date, help="date (default today)")
    p.add_argument("--authority", help="only this authority's programmes (e.g. lombardia, national)")
    p.add_argument("--json", action="store_true", help="the decisions as JSON")
    p.add_argument("--lang", choices=["it", "en"], default="it", help="language of the text output")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    p.add_argument("--backend", choices=["durable", "batch", "reference"], default="durable")
    commands["screen"] = cmd_screen


def _euro(value: str | None, lang: str) -> str:
    if value is None:
        return "–"
    from babel.numbers import format_currency
    return format_currency(Decimal(value), "EUR", locale="it_IT" if lang == "it" else "en_GB")


def cmd_screen(args) -> int:
    import datetime as dt

    from engine.decide.screening import screen
    from engine.policy.registry import Registry
    registry = Registry.load(_policies_root(args))
    person = read_json(args.person)
    as_of = args.as_of or dt.date.today()
    results = screen(registry, person, as_of, args.authority, args.backend)
    if args.json:
        print(dump({"as_of": as_of.isoformat(), "results": [r for _, r in results]}))
        return 0
    it = args.lang == "it"
    words = OUTCOME_IT if it else OUTCOME_EN
    from babel.dates import format_date
    day = format_date(as_of, "dd/MM/yyyy", locale="it_IT") if it else as_of.isoformat()
    print((f"Programmi in vigore il {day}: {len(results)}" if it else f"Programmes in force on {day}: {len(results)}"))
    for policy, r in results:
        line = f"- {policy.title} [{policy.key}]: {words[r['outcome']]}"
        if r.get("band") and r["band"].get("id"):
            line += (f", fascia {r['band']['id']} ({r['band']['label']})" if it else
                     f", band {r['band']['id']} ({r['band']['label']})")
        if r.get("benefit") and r["benefit"].get("amount"):
            line += f", {_euro(r['benefit']['amount'], args.lang)}"
        possible = r.get("possible") or {}
        if possible.get("amount"):
            low, high = possible["amount"]["min"], possible["amount"]["max"]
            line += (f", importo possibile da {_euro(low, args.lang)} a {_euro(high, args.lang)}" if it else
                     f", possible amount {_euro(low, args.lang)} to {_euro(high, args.lang)}")
        print(line)
        for reason in r.get("reasons", []):
            print(f"    {'motivo' if it else 'reason'}: {reason['message']}")
        if r.get("ask_next"):
            names = ", ".join(f"{a['label']} ({a['fact']})" for a in r["ask_next"][:3])
            print(f"    {'chiedere prima' if it else 'ask next'}: {names}")
    return 0

