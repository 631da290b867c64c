"""The program's secret keys, kept outside the database.

Two kinds of key:

- the **UIC key**: the HMAC key that turns a raw unique identifier code into the stored hash.
  It never changes for the life of a program (a new key would make every returning client look
  new), so it is backed up with the data directory and never rotated.
- the **field keys**: AES-256-GCM keys for sensitive fields (salus.core.crypto). One is active
  for new writes; older ones stay to read old rows until ``salus keys rotate`` re-encrypts them.

Files live in ``$SALUS_HOME/keys/`` with owner-only permissions, or where ``SALUS_UIC_KEY_FILE``
and ``SALUS_FIELD_KEYS_FILE`` say (removable media, a tmpfs filled at boot). See docs/security.md
for which threat each option answers.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings


class KeyError_(RuntimeError):
    """A key file is missing or unreadable; the message says what to do."""


def keys_dir() -> Path:
    return Path(settings.SALUS_HOME) / "keys"


def uic_key_path() -> Path:
    return Path(os.environ.get("SALUS_UIC_KEY_FILE") or keys_dir() / "uic.key")


def field_keys_path() -> Path:
    return Path(os.environ.get("SALUS_FIELD_KEYS_FILE") or keys_dir() / "field-keys.json")


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def ensure_keys() -> list[str]:
    """Create any missing key file; return the paths created (``salus init`` calls this)."""
    created = []
    if not uic_key_path().exists():
        _write_private(uic_key_path(), base64.b64encode(secrets.token_bytes(32)) + b"\n")
        created.append(str(uic_key_path()))
    if not field_keys_path().exists():
        kid = secrets.token_hex(4)
        ring = {"active": kid, "keys": {kid: base64.b64encode(secrets.token_bytes(32)).decode()}}
        _write_private(field_keys_path(), json.dumps(ring, indent=2).encode())
        created.append(str(field_keys_path()))
    reset_cache()
    return created


@lru_cache(maxsize=1)
def uic_key() -> bytes:
    """The 32-byte HMAC key for UICs."""
    from salus.core import keyvault

    path = uic_key_path()
    if not path.exists():
        raise KeyError_(f"No UIC key at {path}: run 'salus init' first.")
    return keyvault.load_uic_key(path)


@dataclass(frozen=True)
class FieldKeyring:
    active: str
    keys: dict[str, bytes]


@lru_cache(maxsize=1)
def field_keyring() -> FieldKeyring:
    """The AES-GCM keys for sensitive fields, by key id."""
    from salus.core import keyvault

    path = field_keys_path()
    if not path.exists():
        raise KeyError_(f"No field keys at {path}: run 'salus init' first.")
    ring = keyvault.load_ring(path)
    return FieldKeyring(
        active=ring["active"], keys={k: base64.b64decode(v) for k, v in ring["keys"].items()}
    )


def reset_cache() -> None:
    uic_key.cache_clear()
    field_keyring.cache_clear()
