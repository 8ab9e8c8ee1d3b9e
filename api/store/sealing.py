"""Personal facts sealed per data subject (envelope encryption), so erasure leaves the chain whole.

Each data subject (a pseudonym, ``api.pseudonym``; a decision without one is its own subject)
has a random data key; it seals (AES-256-GCM) the personal part of each of their decisions:
the subject's facts, the trace (which shows the facts each rule read) and every part of the
result that is not a countable summary. The data key is stored wrapped (AES-GCM) by the
master key, a file outside the database (``ALMP_SEALING_KEY_FILE``, default
``./almp-sealing.key``, made on first use). The row hash covers the ciphertext, so erasing a
subject (clearing their wrapped key, ``api.retention``) makes their facts unreadable while
every decision stays in the chain, and its outcome, band and edition stay countable.

Sealed text: ``v1:<key id>:<base64 nonce||ciphertext>``; the decision id is the associated
data, so a sealed text moved to another row does not open.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import jsontext
from ..keymaterial import key_path, read_or_create

KEY_ENV = "ALMP_SEALING_KEY_FILE"
DEFAULT_KEY_FILE = "almp-sealing.key"
SCHEME = "v1"

# What of a result stays in clear: the countable summary. "scalar": kept when it is not an object or
# a list (a claim's "outcome" is an object describing the person's job, so it is sealed); "whole":
# kept as it is; a dict: the same, one level down. Everything else is sealed, "provisional" too (which
# placeholder figures a decision read tells which rules applied to the person).
CLEAR_RESULT = {
    "outcome": "scalar", "eligible": "scalar", "as_of": "scalar", "subject": "scalar", "approved": "scalar",
    "dote": "scalar", "total": "scalar", "remaining": "scalar", "claimed": "scalar", "payable": "scalar",
    "policy": "whole", "engine": "whole", "benefit": "whole",
    "band": {"id": "scalar", "label": "scalar"},
}


class PersonalDataErased(Exception):
    """The decision's personal facts were erased (their data key destroyed), or cannot be opened."""

    def __init__(self, decision_id: str, erased_at: dt.datetime | None):
        self.decision_id = decision_id
        self.erased_at = erased_at
        super().__init__(f"personal data of decision {decision_id} erased at {erased_at}")


class SealBroken(ValueError):
    """A sealed text that does not open under its key: altered outside the service."""


def split(value: dict, spec: dict = CLEAR_RESULT) -> tuple[dict, dict]:
    """(the clear summary, the rest) of a result; ``merge`` puts them back together exactly."""
    clear, rest = {}, {}
    for key, item in value.items():
        rule = spec.get(key)
        if rule == "whole" or rule == "scalar" and not isinstance(item, (dict, list)):
            clear[key] = item
        elif isinstance(rule, dict) and isinstance(item, dict):
            inner_clear, inner_rest = split(item, rule)
            clear[key] = inner_clear
            if inner_rest:
                rest[key] = inner_rest
        else:
            rest[key] = item
    return clear, rest


def merge(clear: dict, rest: dict) -> dict:
    out = dict(clear)
    for key, item in rest.items():
        if isinstance(item, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], item)
        else:
            out[key] = item
    return out


class Sealer:
    """Seals and opens under data keys that the master key wraps."""

    def __init__(self, master: bytes):
        if len(master) != 32:
            raise ValueError("the sealing master key is 32 bytes")
        self._master = AESGCM(master)
        self._mac_key = hmac.new(master, b"almp-request-hash-1", hashlib.sha256).digest()

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> "Sealer":
        return cls(read_or_create(key_path(KEY_ENV, DEFAULT_KEY_FILE, path)))

    def mac_key(self) -> bytes:
        """A key for keyed hashes of requests (idempotency), derived from the master key."""
        return self._mac_key

    @staticmethod
    def new_data_key() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def wrap(self, data_key: bytes, key_id: str) -> str:
        nonce = os.urandom(12)
        return SCHEME + ":" + _b64(nonce + self._master.encrypt(nonce, data_key, b"almp-dk1:" + key_id.encode()))

    def unwrap(self, wrapped: str, key_id: str) -> bytes:
        blob = _unb64(wrapped.removeprefix(SCHEME + ":"))
        try:
            return self._master.decrypt(blob[:12], blob[12:], b"almp-dk1:" + key_id.encode())
        except InvalidTag:
            raise SealBroken(f"data key {key_id} does not open under the master key") from None

    @classmethod
    def seal(cls, data_key: bytes, key_id: str, decision_id: str, personal: dict) -> str:
        return cls.seal_text(data_key, key_id, decision_id, jsontext.canonical(personal))

    @staticmethod
    def seal_text(data_key: bytes, key_id: str, decision_id: str, personal_json: str) -> str:
        nonce = os.urandom(12)
        plain = personal_json.encode("utf-8")
        blob = nonce + AESGCM(data_key).encrypt(nonce, plain, b"almp-seal1:" + decision_id.encode())
        return f"{SCHEME}:{key_id}:{_b64(blob)}"

    @staticmethod
    def open(data_key: bytes, decision_id: str, sealed: str) -> dict:
        blob = _unb64(sealed.rsplit(":", 1)[-1])
        try:
            plain = AESGCM(data_key).decrypt(blob[:12], blob[12:], b"almp-seal1:" + decision_id.encode())
        except InvalidTag:
            raise SealBroken(f"the sealed facts of decision {decision_id} do not open") from None
        return jsontext.loads(plain.decode("utf-8"))


def key_id_of(sealed: str) -> str:
    parts = sealed.split(":", 2)
    if len(parts) != 3 or parts[0] != SCHEME:
        raise SealBroken("not a sealed text of a known scheme")
    return parts[1]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        blob = base64.b64decode(text, validate=True)
    except ValueError:
        raise SealBroken("sealed text is not base64") from None
    if len(blob) < 28:
        raise SealBroken("sealed text too short")
    return blob


_default: dict[str, Sealer] = {}
_lock = threading.Lock()


_by_setting: dict[str, Sealer] = {}  # the setting as written -> its sealer: no path parsing per decision


def default() -> Sealer:
    """The service's sealer, keyed by the configured master key file (read once per path)."""
    setting = os.environ.get(KEY_ENV) or DEFAULT_KEY_FILE
    found = _by_setting.get(setting)
    if found is not None:
        return found
    path = str(key_path(KEY_ENV, DEFAULT_KEY_FILE))
    with _lock:
        if path not in _default:
            _default[path] = Sealer.from_file(path)
        _by_setting[setting] = _default[path]
        return _default[path]
