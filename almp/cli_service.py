"""Service commands: serve, replay, audit verify, db upgrade, keys add."""
from __future__ import annotations

import os
import sys

from almp.cli import DEFAULT_POLICIES, UsageError, dump, _date
from engine.i18n import _


def _database_arg(p) -> None:
    p.add_argument("--database", help="database URL (default: ALMP_DATABASE_URL, else sqlite:///almp.db in the "
                                      "working directory)")


def register(sub, commands) -> None:
    p = sub.add_parser("serve", help="run the HTTP service (migrates the database first)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (each evaluates one request at a time)")
    p.add_argument("--policies", help="policies folder (default: the shipped policies)")
    p.add_argument("--keys-file", help="API key file (default: ALMP_API_KEYS_FILE, else ./almp-keys.txt)")
    p.add_argument("--checkpoint-every", type=float, default=300, metavar="SECONDS",
                   help="sign a checkpoint of the decision log this often when it grew (default 300; 0: never; "
                        "key and file as for `almp audit checkpoint`)")
    p.add_argument("--retention-every", type=float, default=24, metavar="HOURS",
                   help="erase the subjects past their editions' retention period this often, as `almp retention "
                        "apply` does (default 24; 0: never)")
    p.add_argument("--access-log", action="store_true",
                   help="log every request on stderr (off by default: decisions are recorded in the store, and "
                        "the log line costs about a tenth of a decision's time)")
    _database_arg(p)
    commands["serve"] = cmd_serve

    p = sub.add_parser("replay", help="replay stored decisions from the database (no server needed)")
    p.add_argument("decision_id", nargs="?", help="one decision; or give --from and --to for a batch")
    p.add_argument("--version", help="what-if: evaluate under this edition instead of the stored one")
    p.add_argument("--from", dest="start", type=_date, help="batch: first day (UTC) decisions were taken")
    p.add_argument("--to", dest="end", type=_date, help="batch: last day (inclusive)")
    p.add_argument("--policy", help="batch: only this programme (authority/programme)")
    p.add_argument("--policies", help="policies folder for --version (default: the shipped policies)")
    p.add_argument("--purpose", help="why the decisions are replayed, recorded in the read log (default: "
                                     "unspecified; required when ALMP_REQUIRE_PURPOSE=1)")
    _database_arg(p)
    commands["replay"] = cmd_replay

    p = sub.add_parser("audit", help="audit the decision store")
    audit = p.add_subparsers(dest="audit_command", required=True)
    v = audit.add_parser("verify", help="check the hash chain and the signed checkpoints; name the first altered "
                                        "or removed decision")
    _checkpoint_args(v)
    _database_arg(v)
    c = audit.add_parser("checkpoint", help="sign the log's size and Merkle root now and append it to the "
                                            "checkpoint file")
    c.add_argument("--key-file", help="signing key (default: ALMP_CHECKPOINT_KEY_FILE, else ./almp-checkpoint.key)")
    c.add_argument("--checkpoints", help="checkpoint file (default: ALMP_CHECKPOINT_FILE, else "
                                         "./almp-checkpoints.jsonl)")
    _database_arg(c)
    k = audit.add_parser("public-key", help="print the public key that checks the checkpoints (give it to auditors)")
    k.add_argument("--key-file", help="signing key (default: ALMP_CHECKPOINT_KEY_FILE, else ./almp-checkpoint.key)")
    i = audit.add_parser("prove", help="print an inclusion proof for a decision, or a consistency proof between "
                                       "two log sizes (RFC 9162)")
    i.add_argument("decision_id", nargs="?", help="inclusion: the decision to prove is in the log")
    i.add_argument("--size", type=int, help="tree size to prove against (default: the whole log)")
    i.add_argument("--from-size", type=int, help="consistency: the earlier tree size")
    _database_arg(i)
    r = audit.add_parser("reads", help="list the read log: who read or replayed which decision, when and why")
    r.add_argument("--decision", help="only reads of this decision")
    r.add_argument("--subject", help="only reads of this subject's decisions (pseudonym ps1:...)")
    r.add_argument("--caller", help="only this caller's reads")
    r.add_argument("--from", dest="start", type=_date, help="first day (UTC)")
    r.add_argument("--to", dest="end", type=_date, help="last day (inclusive)")
    r.add_argument("--limit", type=int, default=100, help="at most this many entries (default 100)")
    r.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    _database_arg(r)
    commands["audit"] = cmd_audit

    p = sub.add_parser("db", help="database administration")
    db = p.add_subparsers(dest="db_command", required=True)
    u = db.add_parser("upgrade", help="apply schema migrations (Alembic) up to the latest")
    _database_arg(u)
    commands["db"] = cmd_db

    p = sub.add_parser("keys", help="API keys")
    keys = p.add_subparsers(dest="keys_command", required=True)
    a = keys.add_parser("add", help="create a key: printed once, only its sha256 is stored")
    a.add_argument("--role", action="append", required=True, choices=["evaluate", "audit", "admin", "policy"],
                   help="repeat for several roles")
    a.add_argument("--name", default="", help="who holds it (recorded as the caller of their decisions)")
    a.add_argument("--file", help="key file (default: ALMP_API_KEYS_FILE, else ./almp-keys.txt)")
    a.add_argument("--expires", type=_date, help="the key stops working when this day (UTC) begins")
    a.add_argument("--days", type=int, help="the key works for this many days from now")
    ls = keys.add_parser("list", help="every key of the file: id, holder, roles, state, created, expiry, revocation")
    ls.add_argument("--file", help="key file (default: ALMP_API_KEYS_FILE, else ./almp-keys.txt)")
    rv = keys.add_parser("revoke", help="revoke a key now (recorded with who and when); refused at once (401)")
    rv.add_argument("key", help="the key's id (key:<12 hex>, see `almp keys list`) or its holder's name")
    rv.add_argument("--by", help="who revokes (default: the operating-system user)")
    rv.add_argument("--file", help="key file (default: ALMP_API_KEYS_FILE, else ./almp-keys.txt)")
    ro = keys.add_parser("rotate", help="a new key with the same roles and holder (printed once); the old one "
                                        "expires after --grace-hours (default 0: at once)")
    ro.add_argument("key", help="the key's id (key:<12 hex>) or its holder's name")
    ro.add_argument("--grace-hours", type=float, default=0.0, help="how long the old key keeps working")
    ro.add_argument("--by", help="who rotates (default: the operating-system user)")
    ro.add_argument("--file", help="key file (default: ALMP_API_KEYS_FILE, else ./almp-keys.txt)")
    commands["keys"] = cmd_keys


def _service(args, policies: bool = True):
    from engine.policy.registry import Registry

    from api.service import Service, Store
    from api.store.db import current_revision
    store = Store(args.database)
    try:
        if current_revision(store.engine) is None:
            raise UsageError(_("{url}: no decision store here (run `almp db upgrade` or `almp serve` first)",
                               url=store.url))
    except UsageError:
        store.close()
        raise
    except Exception as exc:  # noqa: BLE001 - any driver error means we cannot reach the store
        store.close()
        from api.store.db import connection_problem
        raise UsageError(connection_problem(exc, args.database)
                         or _("{url}: cannot open the decision store: {why}", url=store.url, why=exc)) from None
    root = getattr(args, "policies", None) or DEFAULT_POLICIES
    registry = Registry.load(root) if policies else _EmptyRegistry()
    return Service(registry, store)


class _EmptyRegistry:
    policies: list = []


def cmd_serve(args) -> int:
    import uvicorn

    from api import listening

    from api.store.db import database_url, upgrade
    url = database_url(args.database)
    upgrade(url)
    # Workers are separate processes: they read their settings from the environment.
    os.environ["ALMP_DATABASE_URL"] = url
    os.environ["ALMP_MIGRATE"] = "0"
    os.environ["ALMP_POLICIES"] = str(args.policies or DEFAULT_POLICIES)
    workers = args.workers if args.workers > 1 else None
    if workers:
        # Every worker is a fresh process that loads the editions itself; the band analysis is ~80%
        # of that and needs doing once, here (bad files stop us before any worker starts).
        from engine.policy.registry import Registry
        Registry.load(os.environ["ALMP_POLICIES"])
        os.environ["ALMP_POLICIES_CHECKED"] = "1"
    sock = None
    if workers and listening.spreads(url):  # each worker on a socket of its own: connections spread evenly
        try:
            sock = listening.worker_socket(args.host, args.port)
        except OSError as exc:
            raise UsageError(_("{address}: cannot listen here ({why})", address=f"{args.host}:{args.port}",
                               why=exc.strerror)) from None
    if args.keys_file:
        os.environ["ALMP_API_KEYS_FILE"] = args.keys_file
    os.environ["ALMP_CHECKPOINT_EVERY"] = str(max(args.checkpoint_every, 0))
    os.environ["ALMP_RETENTION_EVERY"] = str(max(args.retention_every, 0) * 3600)
    print("almp: " + _("serving {url} (documentation /docs, web console /console), store {store}",
                       url=f"http://{args.host}:{args.port}/v1", store=_safe(url)), file=sys.stderr)
    # A worker that is still starting answers the supervisor's ping late on a busy machine; at
    # uvicorn's default of 5 s it is killed and restarted from scratch, again and again.
    settings = dict(factory=True, host=args.host, port=args.port, workers=workers, access_log=args.access_log,
                    timeout_worker_healthcheck=30)
    if sock is not None:
        from uvicorn.supervisors import Multiprocess
        try:
            Multiprocess(uvicorn.Config("api.app:app_from_env", **settings), sockets=[sock]).run()
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
        return 0
    uvicorn.run("api.app:app_from_env", **settings)
    return 0


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def cmd_replay(args) -> int:
    from api.service import DecisionNotFound
    if args.decision_id and (args.start or args.end or args.policy):
        raise UsageError(_("give a decision id, or --from and --to, not both"))
    if not args.decision_id and not (args.start and args.end):
        raise UsageError(_("give a decision id, or --from DATE --to DATE for a batch"))
    from api import access
    from api.store.sealing import PersonalDataErased
    try:
        purpose = access.clean_purpose(args.purpose)
    except access.PurposeRequired:
        raise UsageError(_("say why the decisions are replayed: --purpose TEXT (ALMP_REQUIRE_PURPOSE is set)")) from None
    except access.BadPurpose as exc:
        raise UsageError(str(exc)) from None
    args.read_purpose = purpose
    service = _service(args)
    try:
        if args.decision_id:
            what = "replay" if args.version is None else "what-if"
            try:
                report = service.replay(args.decision_id, args.version)
            except DecisionNotFound as exc:
                raise UsageError(str(exc)) from None
            except PersonalDataErased as exc:
                service.record_read(caller=_operator(), decision_id=args.decision_id, what=what, purpose=purpose,
                                    via="cli", outcome="erased")
                print(_erased_text(exc), file=sys.stderr)
                return 1
            service.record_read(caller=_operator(), decision_id=args.decision_id, what=what, purpose=purpose,
                                via="cli")
            print(dump(report))
            return 0 if report["identical"] else 1
        return _batch(service, args)
    finally:
        service.store.close()


def _operator() -> str:
    import getpass
    return "cli:" + getpass.getuser()


def _erased_text(exc) -> str:
    from engine.i18n import date
    if exc.erased_at is None:
        return _("the personal data of this decision cannot be read (its key is missing or the record was altered)")
    return _("personal data erased on {date}", date=date(exc.erased_at.date()))


def _batch(service, args) -> int:
    from api.store.repository import iter_decisions
    from engine.errors import AlmpError
    total, identical, differ, failed, erased = 0, 0, [], [], 0
    with service.store.reading() as session:
        stored = list(iter_decisions(session, args.start, args.end, args.policy))
    what = "replay" if args.version is None else "what-if"
    for decision in stored:
        total += 1
        if decision.erased:  # nothing personal left to re-evaluate; not a read of anyone's facts
            erased += 1
            continue
        service.record_read(caller=_operator(), decision_id=decision.id, what=what, purpose=args.read_purpose,
                            via="cli")
        try:
            report = service.replay_stored(decision, args.version)
        except AlmpError as exc:
            failed.append({"decision_id": decision.id, "error": str(exc)})
            continue
        if report["identical"]:
            identical += 1
        else:
            differ.append({"decision_id": decision.id, "policy": decision.policy_id, "version": decision.version,
                           "differences": report["differences"]})
    print(dump({"from": args.start.isoformat(), "to": args.end.isoformat(), "policy": args.policy,
                "version": args.version, "decisions": total, "identical": identical, "different": len(differ),
                "failed": len(failed), "erased": erased, "differences": differ, "failures": failed}))
    return 0 if not differ and not failed else 1


def _checkpoint_args(p) -> None:
    p.add_argument("--checkpoints", help="checkpoint file (default: ALMP_CHECKPOINT_FILE, else ./almp-checkpoints.jsonl)")
    p.add_argument("--public-key", help="the checkpoint public key, base64 or a file holding it (default: "
                                        "ALMP_CHECKPOINT_PUBLIC_KEY, else the public half of the signing key file)")


def cmd_audit(args) -> int:
    from api.store.checkpoint import CheckpointError, Signer
    if args.audit_command == "public-key":
        from api.keymaterial import KeyMaterialError
        from api.store.checkpoint import public_key_text
        try:
            signer = Signer.from_file(args.key_file, create=False)
        except KeyMaterialError as exc:
            raise UsageError(str(exc)) from None
        print(public_key_text(signer.public))
        print(_("(key id {key})", key=signer.key_id), file=sys.stderr)
        return 0
    service = _service(args, policies=False)
    try:
        with service.store.reading() as session:
            try:
                return {"verify": _verify, "checkpoint": _checkpoint, "prove": _prove,
                        "reads": _reads}[args.audit_command](
                    session, args)
            except CheckpointError as exc:
                print(_("error: {problem}", problem=exc), file=sys.stderr)
                return 1
    finally:
        service.store.close()


def _verify(session, args) -> int:
    from api.store.audit import verify_chain
    from api.store.checkpoint import Sink, trusted_public_key
    sink = Sink(args.checkpoints)
    checkpoints = sink.read()
    public = trusted_public_key(args.public_key) if checkpoints else None
    report = verify_chain(session, checkpoints, public)
    if report.ok:
        print(_("ok: {n} decision(s), hash chain intact, Merkle root {root}", n=report.checked, root=report.root_hash))
        if report.latest_checkpoint is None:
            print(_("warning: no signed checkpoint in {path}: a truncated or rewritten tail cannot be detected (run "
                    "`almp audit checkpoint` regularly)", path=sink.path), file=sys.stderr)
        else:
            cp = report.latest_checkpoint
            print(_("ok: consistent with {n} signed checkpoint(s); latest: {size} decision(s) at {time} ({key})",
                    n=report.checkpoints_checked, size=cp.tree_size, time=cp.time, key=cp.key_id))
        return 0 if _verify_reads(session, checkpoints) else 1
    print(_("BROKEN: {problem}", problem=report.problem), file=sys.stderr)
    print(_("({n} row(s) read; first bad decision: {id})", n=report.checked, id=report.decision_id or "–"),
          file=sys.stderr)
    _verify_reads(session, checkpoints)
    return 1


def _verify_reads(session, checkpoints) -> bool:
    """The read log's chain, and against the signed checkpoints that commit to it (their signatures
    were checked with the decision log's)."""
    from api import access
    reads = access.verify(session, checkpoints)
    if reads.ok:
        print(_("ok: {n} read(s) of decisions recorded, read log chain intact", n=reads.checked))
        if checkpoints and not reads.checkpoints_checked:
            print(_("warning: no signed checkpoint covers the read log yet: a truncated or rewritten tail of it "
                    "cannot be detected (run `almp audit checkpoint`)"), file=sys.stderr)
        elif reads.checkpoints_checked:
            print(_("ok: read log consistent with {n} signed checkpoint(s)", n=reads.checkpoints_checked))
        return True
    cp = reads.checkpoint
    why = {"missing": _("an entry is missing"), "link": _("an entry does not link to the one before it"),
           "altered": _("an entry was altered"), "head": _("the read log head does not match its last entry "
                                                             "(entries removed or rewritten)"),
           "truncated": _("the read log holds {count} entries but the checkpoint signed at {time} holds {size}: "
                          "entries after {count} were removed", count=reads.checked,
                          time=cp.time if cp else "–", size=cp.reads_size if cp else "–"),
           "rewritten": _("the first {size} entries do not match the checkpoint signed at {time}: entries up to "
                          "{size} were rewritten or replaced", size=cp.reads_size if cp else "–",
                          time=cp.time if cp else "–")}[reads.problem]
    print(_("BROKEN read log: {problem} (entry {seq})", problem=why, seq=reads.seq), file=sys.stderr)
    return False


def _reads(session, args) -> int:
    import json

    from api import access
    from engine.i18n import number
    entries = access.listing(session, decision_id=args.decision, subject=args.subject, caller=args.caller,
                             since=args.start, until=args.end, limit=max(1, min(args.limit, 100_000)))
    if args.json:
        for entry in entries:
            print(json.dumps(entry, ensure_ascii=False))
        return 0
    for e in entries:
        print(f"{e['seq']:>6}  {e['at'][:19].replace('T', ' ')}  {e['caller']:<20}  {e['action']:<14}  "
              f"{e['decision_id'] or '–'}  {e['via']:<7}  {e['outcome']:<6}  {e['purpose']}")
    print(_("{n} read(s) listed", n=number(len(entries))), file=sys.stderr)
    return 0


def _checkpoint(session, args) -> int:
    from api.store.audit import issue_checkpoint
    from api.store.checkpoint import Signer, Sink
    sink = Sink(args.checkpoints)
    cp = issue_checkpoint(session, Signer.from_file(args.key_file), sink)
    print(_("checkpoint: {size} decision(s), root {root}, {time}, signed by {key}", size=cp.tree_size,
            root=cp.root_hash, time=cp.time, key=cp.key_id))
    print(_("(appended to {path})", path=sink.path), file=sys.stderr)
    return 0


def _prove(session, args) -> int:
    from api.store.audit import consistency_proof, inclusion_proof
    if (args.decision_id is None) == (args.from_size is None):
        raise UsageError(_("give a decision id (inclusion proof) or --from-size N (consistency proof)"))
    try:
        if args.decision_id:
            proof = inclusion_proof(session, args.decision_id, args.size)
        else:
            proof = consistency_proof(session, args.from_size, args.size)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    print(dump(proof))
    return 0


def cmd_db(args) -> int:
    from api.store.db import current_revision, database_url, make_engine, upgrade
    url = database_url(args.database)
    upgrade(url)
    engine = make_engine(url)
    try:
        print(f"{_safe(url)}: schema at revision {current_revision(engine)}")
    finally:
        engine.dispose()
    return 0


def cmd_keys(args) -> int:
    import datetime as dt
    import getpass

    from api import keylife
    from api.keys import KeyFileError, keys_file
    path = keys_file(args.file)
    now = dt.datetime.now(dt.timezone.utc)
    who = "cli:" + (getattr(args, "by", None) or getpass.getuser())
    try:
        if args.keys_command == "add":
            expires = None
            if args.expires and args.days:
                raise UsageError(_("give --expires or --days, not both"))
            if args.expires:
                expires = dt.datetime(args.expires.year, args.expires.month, args.expires.day, tzinfo=dt.timezone.utc)
            elif args.days:
                expires = now + dt.timedelta(days=args.days)
            if expires is not None and expires <= now:
                raise UsageError(_("the expiry must be in the future"))
            key = keylife.add(path, args.role, args.name, expires=expires)
            print(key)
            print(_("(shown once; its sha256 was added to {path} with role(s) {roles})", path=path,
                    roles=", ".join(sorted(set(args.role)))), file=sys.stderr)
            return 0
        if args.keys_command == "list":
            return _list_keys(keylife.entries(path), now)
        if args.keys_command == "revoke":
            old = keylife.revoke(path, args.key, by=who)
            print(_("{key} ({name}) revoked: refused from now on", key=old.key_id, name=old.name or "–"))
            return 0
        if args.grace_hours < 0:
            raise UsageError(_("--grace-hours cannot be negative"))
        key, old = keylife.rotate(path, args.key, by=who, grace=dt.timedelta(hours=args.grace_hours))
        print(key)
        hours = f"{args.grace_hours:g}"
        print(_("(shown once) replaces {key} ({name}), which stops working {when}", key=old.key_id,
                name=old.name or "–", when=_("now") if args.grace_hours == 0 else
                _("in {hours} hours", hours=hours)), file=sys.stderr)
        return 0
    except KeyFileError as exc:
        raise UsageError(str(exc)) from None


def _list_keys(listed, now) -> int:
    from engine.i18n import date
    words = {"active": _("active"), "expired": _("expired"), "revoked": _("revoked")}
    for item in listed:
        key = item.key
        expires, revoked, created = key.when("expires"), key.when("revoked"), key.when("created")
        extra = []
        if revoked:
            extra.append(_("revoked on {date} by {who}", date=date(revoked.date()),
                           who=key.attributes.get("revoked_by", "–")))
        if key.attributes.get("rotated_to"):
            extra.append(_("replaced by {key} on {date}", key=key.attributes["rotated_to"],
                           date=date(key.when("rotated").date()) if key.when("rotated") else "–"))
        print(f"{key.key_id}  {key.name or '–':<16}  {','.join(sorted(key.roles)):<16}  "
              f"{words[key.state(now)]:<9}  {_('created')} {date(created.date()) if created else '–'}  "
              f"{_('expires')} {date(expires.date()) if expires else '–'}" + ("  " + "; ".join(extra) if extra else ""))
    print(_("{n} key(s)", n=len(listed)), file=sys.stderr)
    return 0
