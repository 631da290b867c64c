"""UIC hashing for bulk imports: the same values as salus.clients.uic, computed faster.

``salus.clients.uic.hash_parts`` computes the hash and every neighbour key for each code. An
import of 200,000 rows needs only the hash to check and match a row; neighbour keys are needed
for new clients only. This module splits the two, and keys HMAC-SHA256 once per import: each
code's MACs copy the keyed state instead of setting the key up again (OpenSSL 3 looks the
algorithm up on every one-shot call).

Codes written in ASCII (nearly all of them) are also split and checked without Unicode
normalisation, which cannot change ASCII text; any other code, and any code the quick check does
not accept, goes through ``salus.clients.uic`` itself, so errors carry its messages. Tests
(tests/transfer/test_uichash.py) check that both give identical values and errors.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Callable
from typing import Protocol

from salus.clients import uic as uicmod
from salus.core import keys

# What salus.clients.uic.parts_from_raw drops from a raw code, restricted to ASCII: white space
# (str.isspace) and the separators people type between the components.
_DROP_ASCII = str.maketrans("", "", "".join(chr(i) for i in range(128) if chr(i).isspace()) + "-_/.")
_ASCII_LETTERS = frozenset(string.ascii_letters)


class Hashes(Protocol):
    """What an import reads from a code's hashes: salus.clients.uic.UICHashes or FastHashes."""

    @property
    def uic_hash(self) -> str: ...
    @property
    def neighbour_keys(self) -> tuple[str, ...]: ...
    @property
    def birth_year(self) -> int | None: ...
    @property
    def sex(self) -> str | None: ...


class FastHashes:
    """Hashes of one canonical code: ``uic_hash`` at once, neighbour keys on demand.

    Quacks like salus.clients.uic.UICHashes (uic_hash, neighbour_keys, birth_year, sex).
    """

    __slots__ = ("parts", "uic_hash", "birth_year", "sex", "_neighbours", "_mac")

    parts: list[str]
    uic_hash: str
    birth_year: int | None
    sex: str | None
    _neighbours: tuple[str, ...] | None
    _mac: Callable[[str], str]

    def __init__(self, parts: list[str], components: tuple[uicmod.Component, ...], mac: Callable[[str], str]):
        self.parts = parts
        self._mac = mac
        self._neighbours = None
        self.uic_hash = mac("\x1f".join(parts))
        self.birth_year = self.sex = None
        for c, v in zip(components, parts, strict=True):
            if c.name == "birth_year" and c.kind == "digits":
                self.birth_year = int(v)
            if c.kind == "sex":
                self.sex = v

    @property
    def neighbour_keys(self) -> tuple[str, ...]:
        if self._neighbours is None:
            out = []
            for i in range(len(self.parts)):
                masked = self.parts[:i] + ["*"] + self.parts[i + 1 :]
                out.append(self._mac(f"{i}\x1e" + "\x1f".join(masked)))
            self._neighbours = tuple(out)
        return self._neighbours


def ascii_parts(raw: str, components: tuple[uicmod.Component, ...]) -> list[str] | None:
    """The canonical components of an ASCII ``raw`` code, or None to leave it to salus.clients.uic.

    For ASCII text NFKC normalisation is the identity, so the result equals
    ``uic.canonical(uic.parts_from_raw(raw))`` whenever it is not None. None means: not ASCII,
    or the code is invalid (the slow path then raises InvalidUIC with its message).
    """
    if not raw.isascii():
        return None
    s = raw.translate(_DROP_ASCII).upper()
    parts = []
    i = 0
    for c in components:
        part = s[i : i + c.length]
        i += c.length
        if len(part) != c.length:
            return None
        kind = c.kind
        if kind == "letters":
            if not _ASCII_LETTERS.issuperset(part):
                return None
        elif kind == "digits":
            if not part.isdigit():
                return None
        elif kind != "sex" or part not in uicmod.SEX_CODES:
            return None
        parts.append(part)
    if i != len(s):
        return None
    return parts


def hasher() -> Callable[[str], FastHashes]:
    """A function raw code -> FastHashes for the program's recipe and key (InvalidUIC if bad)."""
    components = uicmod.recipe()
    keyed = hmac.new(keys.uic_key(), digestmod=hashlib.sha256)

    def mac(text: str) -> str:
        h = keyed.copy()
        h.update(text.encode())
        return h.hexdigest()

    def hash_raw(raw: str) -> FastHashes:
        parts = ascii_parts(raw, components)
        if parts is None:
            parts = uicmod.canonical(uicmod.parts_from_raw(raw, components), components)
        return FastHashes(parts, components, mac)

    return hash_raw
