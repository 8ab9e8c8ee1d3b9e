"""``almp statement``: the Italian statement of reasons of a stored decision (also ``almp eval --statement``)."""
from __future__ import annotations

import sys
from pathlib import Path

from engine.i18n import _, number

from .cli import UsageError

FORMATS = ("json", "html", "pdf", "odt")


def register(sub, commands) -> None:
    p = sub.add_parser("statement", help="the statement of reasons of a stored decision (Italian; PDF/A, HTML, "
                                         "ODT or JSON)")
    p.add_argument("decision_id")
    p.add_argument("--format", choices=FORMATS, help="default: from --out's extension, else html")
    p.add_argument("--out", metavar="FILE", help="write here (default: standard output; required for pdf and odt)")
    p.add_argument("--lang", choices=["it", "en"], default="it")
    p.add_argument("--compare", metavar="VERSION", help="add what the outcome would have been under another "
                                                         "edition of the same programme")
    p.add_argument("--database", help="database URL (default: ALMP_DATABASE_URL, else sqlite:///almp.db in the "
                                      "working directory)")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    commands["statement"] = cmd_statement


def output_format(fmt: str | None, out: str | None) -> str:
    if fmt:
        return fmt
    suffix = Path(out).suffix.lower().lstrip(".") if out else ""
    return suffix if suffix in FORMATS else "html"


def write(data: bytes, fmt: str, out: str | None) -> None:
    if out:
        try:
            Path(out).write_bytes(data)
        except OSError as exc:
            raise UsageError(f"{out}: {exc.strerror}") from None
        print("almp: " + _("statement written to {out} ({fmt}, {size} bytes)", out=out, fmt=fmt,
                                   size=number(len(data))), file=sys.stderr)
        return
    if fmt in ("pdf", "odt") and sys.stdout.isatty():
        raise UsageError(_("a {fmt} statement is binary: give --out FILE", fmt=fmt))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def cmd_statement(args) -> int:
    from api.service import DecisionNotFound
    from engine.statement import StatementError

    from .cli_service import _service
    fmt = output_format(args.format, args.out)
    service = _service(args)
    caller = "cli:" + (_user() or "unknown")
    try:
        try:
            data = service.statements.document(args.decision_id, fmt, caller=caller, lang=args.lang,
                                               compare=args.compare)
        except DecisionNotFound as exc:
            raise UsageError(str(exc)) from None
        except StatementError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        write(data, fmt, args.out)
        return 0
    finally:
        service.store.close()


def _user() -> str:
    import getpass
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return ""


def eval_statement(root, policy, kind: str, payload: dict, as_of, result: dict, out: str) -> None:
    """``almp eval ... --statement FILE``: the statement of an evaluation that is not stored (marked as such).

    The format follows the file's extension (.pdf, .html, .odt, .json)."""
    import json

    from engine import i18n
    from engine.statement import authority_folder, build_statement, load_authorities, render, unstored_record
    plain = json.loads(json.dumps(result, default=str))
    authority = load_authorities(root).get(authority_folder(policy.id))
    statement = build_statement(unstored_record(kind, policy, payload, as_of, plain), policy, authority,
                                lang=i18n.language())
    fmt = output_format(None, out)
    write(render(statement, fmt), fmt, out)
