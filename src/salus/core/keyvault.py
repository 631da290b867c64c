"""Reading and writing key files, optionally wrapped with a passphrase.

Two key files (salus.core.keys): the field keyring (JSON ``{"active": kid, "keys": {kid:
base64}}``) and the UIC key (base64 text). Either may be stored *wrapped*: encrypted with
AES-256-GCM under a key derived from a passphrase by Argon2id (memory-hard: 64 MiB, 3 passes),
so that a disk or backup taken while the server is off holds no usable key. A wrapped file is
JSON::

    {"format": "salus-wrapped-key-1", "kdf": "argon2id", "t": 3, "m": 65536, "p": 1,
     "salt": b64, "nonce": b64, "ciphertext": b64, "kind": "field-keyring" | "uic-key"}

The passphrase comes, in this order, from :func:`set_passphrase` (``salus serve`` asks for it
at start-up), or the file named by ``SALUS_KEY_PASSPHRASE_FILE`` (e.g. on a USB stick that is
removed after start-up). Without it, a wrapped key cannot be read and Salus says so.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from django.db.models import Model

WRAPPED_FORMAT = "salus-wrapped-key-1"
# Argon2id cost: 64 MiB of memory and 3 passes (about a quarter of a second on a small server),
# so each passphrase guess costs an attacker the same.
ARGON2_TIME = 3
ARGON2_MEMORY_KIB = 65536
ARGON2_PARALLELISM = 1
MIN_PASSPHRASE_LENGTH = 12

_passphrase: str | None = None


class VaultError(RuntimeError):
    """A key file could not be unlocked; the message says what to do."""


def set_passphrase(passphrase: str | None) -> None:
    """Hold the passphrase in this process's memory (never written anywhere)."""
    global _passphrase
    _passphrase = passphrase


def passphrase() -> str | None:
    """The passphrase from memory or from SALUS_KEY_PASSPHRASE_FILE; None if neither."""
    if _passphrase:
        return _passphrase
    path = os.environ.get("SALUS_KEY_PASSPHRASE_FILE")
    if path:
        try:
            return Path(path).read_text().rstrip("\r\n")
        except OSError as exc:
            raise VaultError(f"cannot read the key passphrase file {path}: {exc.strerror}") from exc
    return None


def _derive(secret: str, salt: bytes, t: int, m: int, p: int) -> bytes:
    return hash_secret_raw(secret.encode(), salt, time_cost=t, memory_cost=m, parallelism=p, hash_len=32, type=Type.ID)


def is_wrapped(data: bytes | str) -> bool:
    text = data.decode() if isinstance(data, bytes) else data
    text = text.lstrip()
    if not text.startswith("{"):
        return False
    try:
        return json.loads(text).get("format") == WRAPPED_FORMAT
    except ValueError:
        return False


def wrap(plain: bytes, secret: str, kind: str) -> bytes:
    """Encrypt ``plain`` (a key file's content) under ``secret``; returns the wrapped file."""
    if len(secret) < MIN_PASSPHRASE_LENGTH:
        raise VaultError(f"the passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters")
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    key = _derive(secret, salt, ARGON2_TIME, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM)
    ct = AESGCM(key).encrypt(nonce, plain, f"{WRAPPED_FORMAT}:{kind}".encode())
    doc = {
        "format": WRAPPED_FORMAT, "kind": kind, "kdf": "argon2id",
        "t": ARGON2_TIME, "m": ARGON2_MEMORY_KIB, "p": ARGON2_PARALLELISM,
        "salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ct).decode(),
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def unwrap(data: bytes, secret: str | None) -> bytes:
    """Decrypt a wrapped key file; VaultError if the passphrase is missing or wrong."""
    doc = json.loads(data)
    if not secret:
        raise VaultError(
            "the program's keys are protected by a passphrase: start with 'salus serve' and type it, "
            "or set SALUS_KEY_PASSPHRASE_FILE to a file holding it"
        )
    if doc.get("kdf") != "argon2id":
        raise VaultError(f"unknown key derivation {doc.get('kdf')!r}")
    key = _derive(secret, base64.b64decode(doc["salt"]), int(doc["t"]), int(doc["m"]), int(doc["p"]))
    try:
        return AESGCM(key).decrypt(
            base64.b64decode(doc["nonce"]), base64.b64decode(doc["ciphertext"]),
            f"{WRAPPED_FORMAT}:{doc['kind']}".encode(),
        )
    except InvalidTag:
        raise VaultError("wrong key passphrase (or a damaged key file)") from None


def read_key_file(path: Path) -> bytes:
    """The plain content of a key file, unwrapping it if it is wrapped."""
    data = path.read_bytes()
    if is_wrapped(data):
        return unwrap(data, passphrase())
    return data


def load_ring(path: Path) -> dict:
    """Return the decoded field keyring stored at ``path``."""
    return json.loads(read_key_file(path))


def load_uic_key(path: Path) -> bytes:
    return base64.b64decode(read_key_file(path).decode().strip())


def write_key_file(path: Path, plain: bytes, kind: str, *, wrapped: bool | None = None) -> None:
    """Write a key file atomically, owner-only. ``wrapped=None`` keeps the file's current form
    (wrapping with the passphrase in memory when the file is wrapped now)."""
    from salus.core.keys import _write_private

    if wrapped is None:
        wrapped = path.exists() and is_wrapped(path.read_bytes())
    if wrapped:
        secret = passphrase()
        if not secret:
            raise VaultError("the keys are protected: give the passphrase to change them")
        data = wrap(plain, secret, kind)
    else:
        data = plain
    _write_private(path, data)


def save_ring(path: Path, ring: dict, *, wrapped: bool | None = None) -> None:
    write_key_file(path, json.dumps(ring, indent=2).encode(), "field-keyring", wrapped=wrapped)


def key_files() -> list[tuple[Path, str]]:
    from salus.core import keys

    return [(keys.field_keys_path(), "field-keyring"), (keys.uic_key_path(), "uic-key")]


def protect(secret: str) -> list[str]:
    """Wrap every key file with ``secret`` (re-wrap if already wrapped, e.g. a new passphrase).

    The old passphrase, if any, must be available through :func:`passphrase`. Returns the paths
    written.
    """
    from salus.core.keys import _write_private

    done = []
    # Read (and unwrap) every file before writing any, so a wrong old passphrase changes nothing.
    plains = [(path, kind, read_key_file(path)) for path, kind in key_files()]
    for path, kind, plain in plains:
        _write_private(path, wrap(plain, secret, kind))
        done.append(str(path))
    return done


def unprotect() -> list[str]:
    """Store every key file plain again (needs the current passphrase)."""
    from salus.core.keys import _write_private

    done = []
    plains = [(path, read_key_file(path)) for path, _kind in key_files()]
    for path, plain in plains:
        _write_private(path, plain)
        done.append(str(path))
    return done


def any_wrapped() -> bool:
    return any(path.exists() and is_wrapped(path.read_bytes()) for path, _kind in key_files())


def unlock_for_serving(stdin=None, prompt=None) -> None:
    """Before serving: if the keys are wrapped and no passphrase is set, ask for it, then check
    that it opens every key file (VaultError if not), so a wrong passphrase stops the start."""
    import getpass
    import sys

    from salus.core import keys

    if not any_wrapped():
        return
    if passphrase() is None:
        stdin = stdin or sys.stdin
        if stdin.isatty():
            set_passphrase((prompt or getpass.getpass)("Key passphrase: "))
        else:
            set_passphrase(stdin.readline().rstrip("\r\n"))
    keys.reset_cache()
    keys.field_keyring()
    keys.uic_key()


# --- Rotation of the field keys -------------------------------------------------------------


def encrypted_columns() -> list[tuple[type[Model], list[tuple[str, str]]]]:
    """Every (model, [(column, encryption context)]) holding values made by salus.core.crypto."""
    from django.apps import apps
    from django.db.models import Field

    from salus.core import auth, crypto

    found = []
    for model in apps.get_models():
        cols: list[tuple[str, str]] = [
            (f.column, f._context)
            for f in model._meta.concrete_fields
            if isinstance(f, crypto.EncryptedTextField)
        ]
        if model._meta.label == "core.User":
            totp_secret = model._meta.get_field("totp_secret")
            assert isinstance(totp_secret, Field)  # a text column of User, not a relation
            cols.append((totp_secret.column, auth.TOTP_CONTEXT))
        if cols:
            found.append((model, cols))
    return found


def _scan(model, cols, batch_size: int):
    """Yield batches of (pk, {column: stored value}) in primary-key order, read as stored."""
    from django.db import connection

    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    select = ", ".join(qn(c) for c, _ctx in cols)
    last = None
    while True:
        with connection.cursor() as cur:
            if last is None:
                cur.execute(f"SELECT {pk}, {select} FROM {table} ORDER BY {pk} LIMIT %s", [batch_size])
            else:
                cur.execute(f"SELECT {pk}, {select} FROM {table} WHERE {pk} > %s ORDER BY {pk} LIMIT %s", [last, batch_size])
            rows = cur.fetchall()
        if not rows:
            return
        yield [(row[0], dict(zip([c for c, _ in cols], row[1:], strict=True))) for row in rows]
        last = rows[-1][0]


def values_not_under(kid: str, batch_size: int = 2000) -> int:
    """How many stored encrypted values are under a key other than ``kid``."""
    prefix = f"v1.{kid}."
    n = 0
    for model, cols in encrypted_columns():
        for batch in _scan(model, cols, batch_size):
            n += sum(1 for _pk, vals in batch for v in vals.values() if v and not v.startswith(prefix))
    return n


def do_rotate_field_keys(actor, *, batch_size: int = 500, resume: bool = False, progress=None) -> dict:
    """Make a new active field key, re-encrypt every encrypted value with it in batches, and
    remove the old keys only once no value needs them. Returns counts per table.

    ``resume=True`` skips making a new key (finishes a rotation that was interrupted). Each
    batch is one transaction; an interruption leaves every value readable (old keys stay in
    the ring until the end). Run it with the server stopped: a running server keeps writing
    with the key it loaded at start-up.
    """
    from django.db import connection, transaction

    from salus.core import audit, crypto, keys

    path = keys.field_keys_path()
    ring = load_ring(path)
    if not resume:
        kid = secrets.token_hex(4)
        while kid in ring["keys"]:
            kid = secrets.token_hex(4)
        ring["keys"][kid] = base64.b64encode(secrets.token_bytes(32)).decode()
        ring["active"] = kid
        save_ring(path, ring)
        keys.reset_cache()
        audit.record(actor, "keys.rotate_start", object_type="fieldkey", object_id=kid)
    active = ring["active"]
    prefix = f"v1.{active}."
    qn = connection.ops.quote_name
    counts: dict[str, int] = {}
    for model, cols in encrypted_columns():
        table = model._meta.db_table
        done = 0
        for batch in _scan(model, cols, batch_size):
            with transaction.atomic():
                for pk, vals in batch:
                    changes = {}
                    for col, ctx in cols:
                        v = vals[col]
                        if v and not v.startswith(prefix):
                            changes[col] = crypto.encrypt(crypto.decrypt(v, ctx), ctx)
                    if changes:
                        sets = ", ".join(f"{qn(c)} = %s" for c in changes)
                        with connection.cursor() as cur:
                            cur.execute(
                                f"UPDATE {qn(table)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s",
                                [*changes.values(), pk],
                            )
                        done += len(changes)
            if progress:
                progress(table, done)
        counts[table] = done
    left = values_not_under(active)
    if left:
        raise VaultError(f"{left} value(s) are still under an old key; the old keys were kept")
    removed = sorted(k for k in ring["keys"] if k != active)
    ring["keys"] = {active: ring["keys"][active]}
    save_ring(path, ring)
    keys.reset_cache()
    audit.record(
        actor, "keys.rotate", object_type="fieldkey", object_id=active,
        detail={"reencrypted": counts, "removed_keys": removed},
    )
    return counts
