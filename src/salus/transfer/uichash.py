"""UIC hashing for bulk imports: the same values as salus.clients.uic, computed faster.

``salus.clients.uic.hash_parts`` computes the hash and every neighbour key for each code. An
import of 200,000 rows needs only the hash to check and match a row; neighbour keys are needed
for new clients only. This module splits the two and uses ``hmac.digest`` (one C call). A test
(tests/transfer/test_uichash.py) checks that both give identical values for random codes.
"""

from __future__ import annotations

import hmac

from salus.clients import uic as uicmod
from salus.core import keys


class FastHashes:
    """Hashes of one canonical code: ``uic_hash`` at once, neighbour keys on demand.

    Quacks like salus.clients.uic.UICHashes (uic_hash, neighbour_keys, birth_year, sex).
    """

    __slots__ = ("parts", "uic_hash", "birth_year", "sex", "_neighbours", "_key")

    def __init__(self, parts: list[str], components, key: bytes):
        self.parts = parts
        self._key = key
        self._neighbours = None
        self.uic_hash = hmac.digest(key, "\x1f".join(parts).encode(), "sha256").hex()
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
                out.append(hmac.digest(self._key, (f"{i}\x1e" + "\x1f".join(masked)).encode(), "sha256").hex())
            self._neighbours = tuple(out)
        return self._neighbours


def hasher():
    """A function raw code -> FastHashes for the program's recipe and key (InvalidUIC if bad)."""
    components = uicmod.recipe()
    key = keys.uic_key()

    def hash_raw(raw: str) -> FastHashes:
        parts = uicmod.canonical(uicmod.parts_from_raw(raw, components), components)
        return FastHashes(parts, components, key)

    return hash_raw
