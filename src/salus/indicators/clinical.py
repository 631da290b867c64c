"""Decrypting the clinical fields that three indicators need (HIV/HCV positivity, ART_PWID).

HIV and HCV results and ART status are stored encrypted (salus.core.crypto); SQL sees only
ciphertext. The engine selects, in SQL, just the values that can matter (results given to the
client, each client's latest ART status) and hands their ciphertexts here; what comes back is
which of them hold one plain value (positive, on ART), as ciphertexts again, for SQL to count.
Plain values are never stored, logged or returned by the engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from salus.core import crypto


def tokens_of(field: str, value: str, tokens: Iterable[str]) -> list[str]:
    """The ``tokens`` (stored values of ``services.Contact.<field>``, none empty) whose plain
    value is ``value``, in the order given; raises crypto.DecryptionError on a bad token."""
    from salus.services.models import Contact

    column = Contact._meta.get_field(field)
    # Callers name the encrypted result and status columns only: anything else holds no tokens.
    assert isinstance(column, crypto.EncryptedTextField), field
    decrypt = crypto.decrypter(column._context)
    return [token for token in tokens if decrypt(token) == value]
