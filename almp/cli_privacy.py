"""Privacy commands: erase one subject's personal facts, apply the editions' retention periods."""
from __future__ import annotations

import datetime as dt
import getpass
import sys

from almp.cli import UsageError, _date
from almp.cli_service import _database_arg, _service
from engine.i18n import _, date, ngettext, number


def register(sub, commands) -> None:
    p = sub.add_parser("subject", help=("data subjects: erase a person's personal facts (GDPR art. 17)"))
    subject = p.add_subparsers(dest="subject_command", required=True)
    e = subject.add_parser("erase", help=("destroy a subject's data key: their decisions stay in the log, their "
                                           "facts become unreadable"))
    e.add_argument("pseudonym", nargs="?", help=("the subject pseudonym (ps1:...)"))
    e.add_argument("--codice-fiscale", dest="codice_fiscale", metavar="CF",
                   help=("the subject's codice fiscale instead ('-' reads it from standard input, keeping it out "
                          "of the shell history)"))
    e.add_argument("--decision", metavar="ID",
                   help=("the subject of this decision instead (a decision taken without a codice fiscale is its "
                         "own subject)"))
    e.add_argument("--why", required=True, help=("the ground, e.g. the request's protocol number"))
    e.add_argument("--by", help=("who erases (default: the operating-system user)"))
    _database_arg(e)
    commands["subject"] = cmd_subject

    p = sub.add_parser("retention", help=("retention periods of personal facts"))
    retention = p.add_subparsers(dest="retention_command", required=True)
    a = retention.add_parser("apply", help=("erase the subjects whose decisions are all past their edition's "
                                             "retention period"))
    a.add_argument("--dry-run", action="store_true", help=("count only, erase nothing"))
    a.add_argument("--today", type=_date, help=("the day to apply retention on (default: today, UTC)"))
    _database_arg(a)
    commands["retention"] = cmd_retention


def _operator(args) -> str:
    return "cli:" + (getattr(args, "by", None) or getpass.getuser())


def cmd_subject(args) -> int:
    from api import pseudonym
    if sum(x is not None for x in (args.pseudonym, args.codice_fiscale, args.decision)) != 1:
        raise UsageError(_("give the pseudonym, --codice-fiscale or --decision, one of them"))
    if args.decision is not None:
        service = _service(args, policies=False)
        try:
            found = service.erase_decision(args.decision.strip()[:64], by=_operator(args), why=args.why)
        finally:
            service.store.close()
        if found is None:
            raise UsageError(_("no decision '{id}' with sealed personal facts", id=args.decision[:64]))
        return _said(found[0] or args.decision.strip()[:64], found[1])
    if args.pseudonym is not None:
        subject = args.pseudonym.strip()
        if not pseudonym.is_pseudonym(subject):
            raise UsageError(_("'{text}' is not a subject pseudonym (ps1: and 64 hex digits)", text=subject[:80]))
    else:
        code = sys.stdin.readline().strip() if args.codice_fiscale == "-" else args.codice_fiscale
        try:
            subject = pseudonym.of_codice_fiscale(code)
        except ValueError:
            raise UsageError(_("the codice fiscale is empty or too long")) from None
    service = _service(args, policies=False)
    try:
        done = service.erase_subject(subject, by=_operator(args), why=args.why)
    finally:
        service.store.close()
    return _said(subject, done)


def _said(subject: str, done) -> int:
    if not done.keys:
        print(_("nothing to erase for {subject}: no personal facts of theirs are readable in the store",
                subject=subject))
        return 0
    print(ngettext("erased {subject}: the personal facts of {n} decision are now unreadable; the decision "
                   "stays in the log",
                   "erased {subject}: the personal facts of {n} decisions are now unreadable; the decisions "
                   "stay in the log", done.decisions, subject=subject, n=number(done.decisions)))
    return 0


def cmd_retention(args) -> int:
    today = args.today or dt.datetime.now(dt.timezone.utc).date()
    service = _service(args, policies=False)
    try:
        report = service.apply_retention(today=today, by=_operator(args), dry_run=args.dry_run)
    finally:
        service.store.close()
    subjects = report.due_subjects + report.due_anonymous
    print(_("retention on {day}", day=date(today)))
    if args.dry_run:
        print("  " + ngettext("{n} subject past retention would be erased ({d} decisions); nothing erased (dry run)",
                              "{n} subjects past retention would be erased ({d} decisions); nothing erased "
                              "(dry run)", subjects, n=number(subjects), d=number(report.due_decisions)))
    else:
        print("  " + ngettext("{n} subject past retention erased ({d} decisions)",
                              "{n} subjects past retention erased ({d} decisions)", subjects,
                              n=number(subjects), d=number(report.due_decisions)))
    if report.due_anonymous:
        print("  " + _("of which {n} decisions taken without a codice fiscale (each its own subject)",
                       n=number(report.due_anonymous)))
    if report.kept_forever:
        print("  " + _("{n} subjects kept: an edition of theirs states no retention period",
                       n=number(report.kept_forever)))
    if report.clear_decisions:
        print("  " + _("{n} decisions stored before sealing keep their facts in clear (their hash covers them)",
                       n=number(report.clear_decisions)))
    return 0
