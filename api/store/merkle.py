"""The Merkle tree over the decision log, hashed as in RFC 9162 (Certificate Transparency v2), section 2.1.

Leaf ``i`` is decision ``seq = i + 1``; its leaf data is the 32 bytes of that row's hash, so
the tree commits to every stored field through the row hash (whatever the row's hash scheme).

    leaf hash  = SHA-256(0x00 || leaf data)
    node hash  = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256()

The proofs are the RFC's PATH (inclusion) and PROOF (consistency), built from the list of
leaf hashes; verifying them needs only the RFC's algorithms (sections 2.1.3.2 and 2.1.4.2).
"""
from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

from engine.i18n import _

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_data(row_hash_text: str) -> bytes:
    """The leaf data of a row: the raw digest of its ``sha256:<hex>`` row hash."""
    algorithm, _sep, hex_digest = row_hash_text.partition(":")
    if algorithm != "sha256" or len(hex_digest) != 64:
        raise ValueError(_("its row hash is not 'sha256:' and 64 hex digits"))
    return bytes.fromhex(hex_digest)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Accumulator:
    """The root of every prefix of the log in one pass: a stack of perfect subtrees (a compact range).

    ``append`` costs O(1) amortised; ``root`` of the leaves so far costs O(log n) and equals the
    RFC's MTH of that prefix.
    """

    def __init__(self):
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (subtree size, hash), sizes strictly decreasing

    def append(self, leaf: bytes) -> None:
        size, value = 1, leaf
        while self._stack and self._stack[-1][0] == size:
            left_size, left = self._stack.pop()
            size, value = size + left_size, node_hash(left, value)
        self._stack.append((size, value))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        value = self._stack[-1][1]
        for _size, left in reversed(self._stack[:-1]):
            value = node_hash(left, value)
        return value


def root(leaves: Sequence[bytes]) -> bytes:
    acc = Accumulator()
    for leaf in leaves:
        acc.append(leaf)
    return acc.root()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves: Sequence[bytes]) -> bytes:
    return root(leaves)


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the audit path of leaf ``index`` in ``leaves``."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is not in a tree of {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_path(index, leaves[:k]) + [_mth(leaves[k:])]
    return inclusion_path(index - k, leaves[k:]) + [_mth(leaves[:k])]


def consistency_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 section 2.1.4.1: the tree of the first ``m`` leaves is a prefix of ``leaves``."""
    n = len(leaves)
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from size {m} to size {n}")
    return _subproof(m, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [_mth(leaves)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves[:k], complete) + [_mth(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [_mth(leaves[:k])]


def leaves_of(row_hashes: Iterable[str]) -> list[bytes]:
    return [leaf_hash(leaf_data(h)) for h in row_hashes]
