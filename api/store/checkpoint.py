"""Signed checkpoints of the decision log, kept outside the database.

A checkpoint states the log's size, its Merkle root (api.store.merkle) and the time, signed
with Ed25519. The signing key is a file outside the database (``ALMP_CHECKPOINT_KEY_FILE``,
default ``./almp-checkpoint.key``, made on first use); checkpoints are appended, one JSON
line each, to a sink outside the database (``ALMP_CHECKPOINT_FILE``, default
``./almp-checkpoints.jsonl``; point it at append-only or write-once storage). Someone who
can rewrite the database but holds neither the key nor the sink cannot make a shortened or
rewritten log agree with the last checkpoint, which ``almp audit verify`` checks.

The signed message is the text ``almp-checkpoint/2``, origin, size, root and time, then the read
log's size and head hash (api.access), one per line (each ends with a newline), in the spirit of
the transparency-log checkpoint notes. Lines of format 1 (no read log fields, header
``almp-checkpoint/1``) still verify: they commit to the decision log only.
"""
from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from engine.i18n import _

from ..keymaterial import KeyMaterialError, key_path, read_or_create

KEY_ENV = "ALMP_CHECKPOINT_KEY_FILE"
DEFAULT_KEY_FILE = "almp-checkpoint.key"
SINK_ENV = "ALMP_CHECKPOINT_FILE"
DEFAULT_SINK = "almp-checkpoints.jsonl"
PUBLIC_KEY_ENV = "ALMP_CHECKPOINT_PUBLIC_KEY"
ORIGIN = "almp decision log"
HEADER = "almp-checkpoint/1"  # decision log only (the first format, still read)
HEADER_2 = "almp-checkpoint/2"  # decision log and read log
MAX_LINE = 4096


class CheckpointError(ValueError):
    """A checkpoint line that cannot be read, or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: str  # "sha256:<hex>"
    time: str  # UTC, ISO 8601 with Z
    key_id: str
    signature: str  # base64
    reads_size: int | None = None  # format 2: entries in the read log, and the last one's hash
    reads_head: str | None = None

    @property
    def covers_reads(self) -> bool:
        return self.reads_size is not None

    def message(self) -> bytes:
        return message(self.origin, self.tree_size, self.root_hash, self.time, self.reads_size, self.reads_head)

    def line(self) -> str:
        # a format-1 checkpoint is written back exactly as it was (no read log keys)
        data = {k: v for k, v in asdict(self).items() if v is not None or k not in ("reads_size", "reads_head")}
        return json.dumps(data, separators=(",", ":"), sort_keys=True)


def message(origin: str, size: int, root_hash: str, time: str, reads_size: int | None = None,
            reads_head: str | None = None) -> bytes:
    if reads_size is None:
        return f"{HEADER}\n{origin}\n{size}\n{root_hash}\n{time}\n".encode("utf-8")
    return f"{HEADER_2}\n{origin}\n{size}\n{root_hash}\n{time}\n{reads_size}\n{reads_head}\n".encode("utf-8")


def public_key_text(public: Ed25519PublicKey) -> str:
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key given as base64 of its 32 raw bytes, or a file holding that text."""
    candidate = text.strip()
    if len(candidate) != 44 and Path(candidate).is_file():
        candidate = Path(candidate).read_text(encoding="ascii").strip()
    try:
        raw = base64.b64decode(candidate, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise CheckpointError(_("the public key must be base64 of 32 bytes (as `almp audit public-key` prints)")) \
            from None


class Signer:
    def __init__(self, private: Ed25519PrivateKey):
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id(self.public)

    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None, create: bool = True) -> "Signer":
        seed = read_or_create(key_path(KEY_ENV, DEFAULT_KEY_FILE, path), create=create)
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, size: int, root_hash: str, when: dt.datetime | None = None,
             origin: str = ORIGIN, reads: tuple[int, str] | None = None) -> Checkpoint:
        """Format 2 when ``reads`` (the read log's size and head hash) is given, else format 1."""
        when = (when or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
        time = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        reads_size, reads_head = reads if reads is not None else (None, None)
        signature = self._private.sign(message(origin, size, root_hash, time, reads_size, reads_head))
        return Checkpoint(origin, size, root_hash, time, self.key_id,
                          base64.b64encode(signature).decode("ascii"), reads_size, reads_head)


def trusted_public_key(explicit: str | None = None) -> Ed25519PublicKey:
    """The key checkpoints are checked against: given, else ``ALMP_CHECKPOINT_PUBLIC_KEY``, else the
    public half of the signing key file (which must then exist)."""
    text = explicit or os.environ.get(PUBLIC_KEY_ENV)
    if text:
        return load_public_key(text)
    try:
        return Signer.from_file(create=False).public
    except KeyMaterialError as exc:
        raise CheckpointError(_("no public key to check checkpoints with: {why}; give --public-key", why=exc)) \
            from None


def check(checkpoint: Checkpoint, public: Ed25519PublicKey) -> None:
    try:
        public.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.message())
    except (InvalidSignature, ValueError):
        raise CheckpointError(_("checkpoint of size {size} at {time}: the signature does not verify with key {key}",
                                size=checkpoint.tree_size, time=checkpoint.time, key=key_id(public))) from None


def parse_line(line: str, where: str) -> Checkpoint:
    if len(line) > MAX_LINE:
        raise CheckpointError(_("{where}: line longer than {n} characters", where=where, n=MAX_LINE))
    try:
        data = json.loads(line)
        cp = Checkpoint(origin=str(data["origin"]), tree_size=data["tree_size"], root_hash=str(data["root_hash"]),
                        time=str(data["time"]), key_id=str(data["key_id"]), signature=str(data["signature"]),
                        reads_size=data.get("reads_size"), reads_head=data.get("reads_head"))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CheckpointError(_("{where}: not a checkpoint line", where=where)) from None
    if not _whole(cp.tree_size):
        raise CheckpointError(_("{where}: tree_size must be a whole number", where=where))
    if (cp.reads_size is None) != (cp.reads_head is None) or (cp.covers_reads and not (
            _whole(cp.reads_size) and isinstance(cp.reads_head, str))):
        raise CheckpointError(_("{where}: reads_size must be a whole number and reads_head a hash, both or neither",
                                where=where))
    return cp


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class Sink:
    """An append-only file of checkpoint lines (the file is locked while a line is appended)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = key_path(SINK_ENV, DEFAULT_SINK, path)

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, (checkpoint.line() + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[Checkpoint]:
        """Every checkpoint in the file, oldest first; a malformed line raises CheckpointError naming it."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(_("{path}: cannot read ({error})", path=self.path, error=exc.__class__.__name__)) \
                from None
        return [parse_line(line, f"{self.path}:{number}")
                for number, line in enumerate(text.splitlines(), 1) if line.strip()]

    def latest(self) -> Checkpoint | None:
        found = self.read()
        return found[-1] if found else None
