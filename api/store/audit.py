"""Checking the decision log: the hash chain, the Merkle tree against signed checkpoints, and proofs.

``verify_chain`` walks every row once: each row must follow the one before (seq and
``prev_hash``), its content must match its hash, and at each checkpoint's size the Merkle
root of the log so far must equal the signed root. A log shorter than the latest checkpoint
was truncated; a root that differs means rows up to that checkpoint were rewritten, even if
the forger recomputed every hash and the chain head.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import String, select, text, type_coerce
from sqlalchemy.orm import Session

from engine.i18n import _

from .. import jsontext
from . import merkle
from .chain import GENESIS, UnknownScheme, row_hash
from .checkpoint import Checkpoint, CheckpointError, Sink, Signer, check
from .tables import AuthorityText, ChainHead, Decision, Edition, TracePlanText
from .trace_plans import referenced


@dataclass
class ChainReport:
    ok: bool
    checked: int
    last_seq: int
    problem: str = ""
    decision_id: str | None = None
    root_hash: str = ""
    checkpoints_checked: int = 0
    latest_checkpoint: Checkpoint | None = None
    notes: list[str] = field(default_factory=list)


class _RowView:
    def __init__(self, values):
        self.__dict__.update(values)


class MalformedRow(ValueError):
    pass


def _moment(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise MalformedRow(_("its timestamp is malformed ({value})", value=_shown(value))) from None


def _day(value) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise MalformedRow(_("its as_of date is malformed ({value})", value=_shown(value))) from None


def _shown(value) -> str:
    text = repr(str(value))
    return text if len(text) <= 40 else text[:40] + "…"


def _raw_rows(session: Session, batch: int, after_seq: int = 0):
    """Every decision row as plain values; dates as the driver gives them, parsed here so that one
    malformed value is reported against its row instead of failing the whole read."""
    table = Decision.__table__
    columns = [type_coerce(c, String).label(c.name) if c.name in ("created_at", "as_of") else c for c in table.c]
    query = select(*columns).where(table.c.seq > after_seq).order_by(table.c.seq)
    for row in session.execute(query.execution_options(yield_per=batch)).mappings():
        yield dict(row)


def hex_root(value: bytes) -> str:
    return "sha256:" + value.hex()


def verify_chain(session: Session, checkpoints: list[Checkpoint] | None = None, public_key=None,
                 batch: int = 1000) -> ChainReport:
    """Walk the chain in order; the first altered, removed or reordered row is reported by id.

    With ``checkpoints`` (signatures checked with ``public_key``), the log must also extend each of
    them: same Merkle root at each checkpoint's size, and at least as many rows as the latest.
    """
    checkpoints = list(checkpoints or [])
    for cp in checkpoints:
        if public_key is None:
            raise CheckpointError(_("checkpoints need a public key to be checked"))
        check(cp, public_key)
    wanted: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        wanted.setdefault(cp.tree_size, []).append(cp)
    latest = max(checkpoints, key=lambda c: c.tree_size) if checkpoints else None
    acc = merkle.Accumulator()
    prev_hash, prev_seq, prev_id, count, matched = GENESIS, 0, None, 0, 0
    plans_needed: dict[str, str] = {}  # trace plan hash -> the first decision whose trace needs it

    def broken(problem: str, decision_id: str | None) -> ChainReport:
        return ChainReport(False, count, prev_seq, problem, decision_id, hex_root(acc.root()), matched, latest)

    def at_size() -> ChainReport | None:
        nonlocal matched
        for cp in wanted.get(acc.size, ()):
            if cp.root_hash != hex_root(acc.root()):
                return broken(_("the first {n} decision(s) do not match the checkpoint signed at {time}: decisions up "
                                "to seq {n} were rewritten or replaced", n=cp.tree_size, time=cp.time), prev_id)
            matched += 1
        return None

    failed = at_size()  # a checkpoint of the empty log
    if failed:
        return failed
    try:
        for values in _raw_rows(session, batch):
            count += 1
            after = _("after decision {id} (seq {seq})", id=prev_id, seq=prev_seq) if prev_id else \
                _("at the start of the chain")
            seq, ident = values["seq"], values["id"]
            if seq != prev_seq + 1:
                return broken(_("decision(s) seq {first}..{last} missing {after}; next is {id} (seq {seq})",
                                first=prev_seq + 1, last=seq - 1, after=after, id=ident, seq=seq), ident)
            if values["prev_hash"] != prev_hash:
                return broken(_("decision {id} (seq {seq}) does not link to the row before it ({after}): a row was "
                                "removed, replaced or altered", id=ident, seq=seq, after=after), ident)
            try:
                values["created_at"] = _moment(values["created_at"])
                values["as_of"] = _day(values["as_of"])
                computed = row_hash(_RowView(values))
                leaf = merkle.leaf_hash(merkle.leaf_data(values["row_hash"]))
            except (MalformedRow, UnknownScheme, ValueError) as exc:
                return broken(_("decision {id} (seq {seq}) was altered: {why}", id=ident, seq=seq, why=exc), ident)
            if computed != values["row_hash"]:
                return broken(_("decision {id} (seq {seq}) was altered: its content no longer matches its hash",
                                id=ident, seq=seq), ident)
            acc.append(leaf)
            plan_hash = referenced(values["trace_json"])
            if plan_hash is not None and plan_hash not in plans_needed:
                plans_needed[plan_hash] = ident
            prev_hash, prev_seq, prev_id = values["row_hash"], seq, ident
            failed = at_size()
            if failed:
                return failed
    except Exception as exc:  # noqa: BLE001 - a row the driver cannot even read is a finding, not a crash
        return broken(_("the row after seq {seq} cannot be read ({error}): the store was altered outside the "
                        "service", seq=prev_seq, error=exc.__class__.__name__), None)
    head = session.get(ChainHead, 1)
    if head is None or head.seq != prev_seq or head.row_hash != prev_hash:
        shown = f"seq {head.seq}" if head else _("missing")
        return broken(_("the chain head ({head}) does not match the last stored decision (seq {seq}, {id}): the "
                        "latest decision(s) were removed", head=shown, seq=prev_seq, id=prev_id), prev_id)
    if latest is not None and latest.tree_size > count:
        return broken(_("the log holds {count} decision(s) but the checkpoint signed at {time} holds {size}: "
                        "decisions after seq {count} were removed", count=count, time=latest.time,
                        size=latest.tree_size), prev_id)
    for edition in session.execute(select(Edition)).scalars():
        from engine.policy.compiler import content_hash
        if content_hash(jsontext.loads(edition.bundle_json)) != edition.content_hash:
            name = edition.policy_id + "@" + edition.version
            return broken(_("stored edition {edition} ({hash}) was altered: its texts no longer match its hash",
                            edition=name, hash=edition.content_hash), None)
    for authority in session.execute(select(AuthorityText)).scalars():
        from engine.statement.authority import text_hash
        if text_hash(authority.text) != authority.hash:
            return broken(_("stored authority text {folder} ({hash}) was altered: it no longer matches its hash",
                            folder=authority.folder, hash=authority.hash), None)
    from engine.decide.trace import text_hash as plan_hash_of
    plans_stored = set()
    for plan in session.execute(select(TracePlanText)).scalars():
        if plan_hash_of(plan.text) != plan.hash:
            return broken(_("stored trace plan {hash} was altered: its text no longer matches its hash",
                            hash=plan.hash), None)
        plans_stored.add(plan.hash)
    for plan_hash, decision_id in plans_needed.items():
        if plan_hash not in plans_stored:
            return broken(_("the trace of decision {id} needs trace plan {hash}, which is not in the store",
                            id=decision_id, hash=plan_hash), decision_id)
    return ChainReport(True, count, prev_seq, root_hash=hex_root(acc.root()), checkpoints_checked=matched,
                       latest_checkpoint=latest)


# -- checkpoints ---------------------------------------------------------------------------------
def leaf_hashes(session: Session, upto: int | None = None) -> list[bytes]:
    """The Merkle leaf hash of each decision, in chain order (the first ``upto`` only, if given)."""
    query = select(Decision.seq, Decision.row_hash).order_by(Decision.seq)
    if upto is not None:
        query = query.where(Decision.seq <= upto)
    out, expected = [], 1
    for seq, text in session.execute(query.execution_options(yield_per=5000)):
        if seq != expected:
            raise CheckpointError(_("decision seq {seq} is missing: the log has a gap", seq=expected))
        out.append(merkle.leaf_hash(merkle.leaf_data(text)))
        expected += 1
    return out


def _durable(session: Session) -> None:
    """PostgreSQL: make every row read so far durable before it is signed. Appends commit without waiting
    for the disk and are answered only once ``almp_durable()`` has run; a checkpoint must not sign a row
    that a crash in between could take back."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    with bind.engine.connect() as conn:
        conn.execute(text("SELECT almp_durable()"))
        conn.commit()


def issue_checkpoint(session: Session, signer: Signer, sink: Sink) -> Checkpoint:
    """Sign the log's current size and root, and the read log's size and head (format 2), and append
    it to ``sink``.

    Refuses (CheckpointError) when the log no longer extends the last checkpoint in the sink, or a
    decision or read entry added since then does not match its hash: a checkpoint must never bless
    a rewrite.
    """
    previous = sink.latest()
    leaves = leaf_hashes(session)
    _durable(session)
    if previous is not None:
        check(previous, signer.public)
        if len(leaves) < previous.tree_size:
            raise CheckpointError(_("the log holds {count} decision(s), fewer than the last checkpoint ({size}, "
                                    "{time}): refusing to sign a truncated log", count=len(leaves),
                                    size=previous.tree_size, time=previous.time))
        if hex_root(merkle.root(leaves[:previous.tree_size])) != previous.root_hash:
            raise CheckpointError(_("the first {size} decision(s) no longer match the last checkpoint ({time}): "
                                    "refusing to sign a rewritten log", size=previous.tree_size, time=previous.time))
    since = previous.tree_size if previous else 0
    for values in _raw_rows(session, 1000, after_seq=since):
        try:
            values["created_at"] = _moment(values["created_at"])
            values["as_of"] = _day(values["as_of"])
            intact = row_hash(_RowView(values)) == values["row_hash"]
        except (MalformedRow, UnknownScheme, ValueError):
            intact = False
        if not intact:
            raise CheckpointError(_("decision {id} (seq {seq}) does not match its hash: refusing to sign (run "
                                    "`almp audit verify`)", id=values["id"], seq=values["seq"]))
    from .. import access  # api.access imports this package's modules
    try:
        reads = access.signed_state(session, previous)
    except access.ReadLogRewritten as exc:
        raise CheckpointError(_("the read log no longer matches its chain or the last checkpoint at entry {seq}: "
                                "refusing to sign (run `almp audit verify`)", seq=exc.seq)) from None
    checkpoint = signer.sign(len(leaves), hex_root(merkle.root(leaves)), reads=reads)
    sink.append(checkpoint)
    return checkpoint


# -- proofs --------------------------------------------------------------------------------------
def inclusion_proof(session: Session, decision_id: str, tree_size: int | None = None) -> dict:
    """Proof that a decision is leaf ``seq - 1`` of the tree of ``tree_size`` (default: the whole log)."""
    row = session.execute(select(Decision.seq, Decision.row_hash).where(Decision.id == decision_id)).one_or_none()
    if row is None:
        raise LookupError(_("no decision '{id}'", id=decision_id))
    leaves = leaf_hashes(session, tree_size)
    size = len(leaves)
    if tree_size is not None and size != tree_size:
        raise CheckpointError(_("the log holds {count} decision(s), not {size}", count=size, size=tree_size))
    if row.seq > size:
        raise CheckpointError(_("decision {id} (seq {seq}) came after the tree of size {size}", id=decision_id,
                                seq=row.seq, size=size))
    index = row.seq - 1
    return {"decision_id": decision_id, "leaf_index": index, "tree_size": size, "row_hash": row.row_hash,
            "leaf_hash": "sha256:" + leaves[index].hex(), "root_hash": hex_root(merkle.root(leaves)),
            "audit_path": ["sha256:" + h.hex() for h in merkle.inclusion_path(index, leaves)]}


def consistency_proof(session: Session, first: int, second: int | None = None) -> dict:
    """Proof that the tree of ``first`` decisions is a prefix of the tree of ``second`` (default: the whole log)."""
    leaves = leaf_hashes(session, second)
    if second is not None and len(leaves) != second:
        raise CheckpointError(_("the log holds {count} decision(s), not {size}", count=len(leaves), size=second))
    if not 0 < first <= len(leaves):
        raise CheckpointError(_("no consistency proof from size {first} to size {second}", first=first,
                                second=len(leaves)))
    return {"first": first, "second": len(leaves), "first_root": hex_root(merkle.root(leaves[:first])),
            "second_root": hex_root(merkle.root(leaves)),
            "proof": ["sha256:" + h.hex() for h in merkle.consistency_proof(first, leaves)]}
