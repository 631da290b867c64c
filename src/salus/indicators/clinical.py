"""Decrypting the clinical fields that three indicators need (HIV/HCV positivity, ART_PWID).

HIV and HCV results and ART status are stored encrypted (salus.core.crypto); SQL sees only
ciphertext. The engine selects, in SQL, just the rows that can matter (a result given to the
client, or an ART status recorded) and decrypts those here, one value at a time, keeping only
what the indicators need (positive or not, on ART or not). Plain values are never stored,
logged or returned by the engine.
"""

from __future__ import annotations

from collections.abc import Callable

from salus.core import crypto


def decryptor(field: str) -> Callable[[str], str]:
    """A function that decrypts values of ``services.Contact.<field>`` ("" for "")."""
    from salus.services.models import Contact

    decrypt_one = crypto.decrypter(Contact._meta.get_field(field)._context)

    def decrypt(token: str) -> str:
        return decrypt_one(token) if token else ""

    return decrypt
