"""Field-level encryption for sensitive values (AES-256-GCM from ``cryptography``).

A stored value looks like ``v1.<key id>.<base64(nonce ‖ ciphertext ‖ tag)>``. Each value has a
fresh random 96-bit nonce, so equal plaintexts give different ciphertexts and a copy of the
database reveals neither the values nor which rows share one. The column name is bound in as
associated data, so a ciphertext moved to another column does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import models

from salus.core import keys

PREFIX = "v1."


class DecryptionError(RuntimeError):
    pass


def encrypt(plaintext: str, context: str) -> str:
    """Encrypt ``plaintext`` for the column named ``context`` with the active key."""
    ring = keys.field_keyring()
    nonce = os.urandom(12)
    ct = AESGCM(ring.keys[ring.active]).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}{ring.active}.{base64.b64encode(nonce + ct).decode()}"


def encrypter(context: str):
    """A function ``plaintext -> token`` equal to ``encrypt(plaintext, context)``, for bulk writes.

    The active key and cipher are looked up once, not once per value; every value still gets
    its own random nonce. Use it within one operation only: it keeps the key active when made.
    """
    ring = keys.field_keyring()
    cipher = AESGCM(ring.keys[ring.active])
    prefix = f"{PREFIX}{ring.active}."
    aad = context.encode()
    urandom, b64 = os.urandom, base64.b64encode

    def encrypt_one(plaintext: str) -> str:
        nonce = urandom(12)
        return prefix + b64(nonce + cipher.encrypt(nonce, plaintext.encode(), aad)).decode()

    return encrypt_one


def decrypt(token: str, context: str) -> str:
    """Decrypt a value made by :func:`encrypt`; raise DecryptionError if it was tampered with."""
    try:
        _, kid, payload = token.split(".", 2)
        raw = base64.b64decode(payload)
        key = keys.field_keyring().keys[kid]
        return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except (ValueError, KeyError, InvalidTag) as exc:
        raise DecryptionError("A sensitive field could not be decrypted") from exc


def decrypter(context: str):
    """A function ``token -> plaintext`` equal to ``decrypt(token, context)``, for bulk reads.

    The mirror of :func:`encrypter`: one cipher per key id, made on first use, and the
    associated data encoded once, instead of both once per value. Tokens under any key of the
    ring when it is made decrypt (values keep their old key until a rotation rewrites them); a
    tampered token, a token of another column or an unknown key id raises DecryptionError.
    Use it within one operation only: it keeps the keys of the ring when made.
    """
    ring = keys.field_keyring()
    aad = context.encode()
    ciphers: dict[str, Callable[[bytes, bytes, bytes | None], bytes]] = {}
    a2b = binascii.a2b_base64

    def decrypt_one(token: str) -> str:
        try:
            _, kid, payload = token.split(".", 2)
            open_ = ciphers.get(kid)
            if open_ is None:
                open_ = ciphers[kid] = AESGCM(ring.keys[kid]).decrypt
            raw = a2b(payload)
            return open_(raw[:12], raw[12:], aad).decode()
        except (ValueError, KeyError, InvalidTag) as exc:  # binascii.Error is a ValueError
            raise DecryptionError("A sensitive field could not be decrypted") from exc

    return decrypt_one


def key_id_of(token: str) -> str:
    return token.split(".", 2)[1]


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; reads and writes plain ``str`` in Python.

    Empty strings are stored as empty strings (nothing to hide but the fact that the field is
    empty, which the application needs for filtering "has a result"). The column cannot be
    searched or sorted in SQL: aggregate over it in Python after decryption, or keep a
    non-sensitive companion column (e.g. ``hiv_tested``) for SQL.
    """

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only)
        self._context = f"{cls._meta.app_label}.{cls.__name__}.{name}"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        if isinstance(value, str) and value.startswith(PREFIX) and value.count(".") >= 2:
            # Already encrypted (e.g. a bulk copy during key rotation).
            return value
        return encrypt(value, self._context)

    def bulk_encrypter(self):
        """``get_prep_value`` for many plain, non-empty values of this column (see :func:`encrypter`)."""
        return encrypter(self._context)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value, self._context)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "salus.core.crypto.EncryptedTextField", args, kwargs
