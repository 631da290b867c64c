"""Encrypted backups of a whole program, and restoring them into an empty data directory.

A backup file is::

    b"SALUSBK1" | header length (4 bytes, big-endian) | header (JSON) | chunks

The header says how the key is made (Argon2id from a passphrase, or the program's backup key
file) and holds the salt and a random nonce prefix; it is not secret but it is authenticated:
every chunk's associated data covers the header. The payload is a tar archive cut into 1 MiB
chunks, each sealed with AES-256-GCM (nonce = prefix ‖ chunk number; the last chunk is marked,
so a truncated, reordered or spliced file does not open). Inside the tar:

- ``manifest.json``: format, Salus version, time, database kind, and the SHA-256 and size of
  every other member;
- the database: ``salus.sqlite3`` (a consistent snapshot made with SQLite's online backup
  API while the server runs), or for PostgreSQL ``database.pgdump`` (pg_dump, custom format)
  or ``database.json`` (Django's dumpdata inside one REPEATABLE READ transaction) when pg_dump
  is not installed;
- ``keys/``: the key files as they are on disk (still wrapped if protected with a passphrase).

Restoring checks every chunk's tag and every member's SHA-256 before anything is written into
the data directory, and refuses a data directory that already holds a database or keys.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SALUSBK1"
FORMAT = "salus-backup-1"
CHUNK = 1024 * 1024
AUDIT_MEMBER = "audit.jsonl"


class BackupError(RuntimeError):
    """A backup could not be made or opened; the message is meant for the operator."""


@dataclass
class KeySource:
    """Where the backup key comes from: a passphrase or a 32-byte key file."""

    passphrase: str | None = None
    key: bytes | None = None

    def describe(self) -> str:
        return "passphrase" if self.passphrase else "backup-key"


def read_backup_key(path: Path) -> bytes:
    raw = base64.b64decode(Path(path).read_text().strip())
    if len(raw) != 32:
        raise BackupError(f"{path} is not a backup key (expected 32 bytes, base64)")
    return raw


def create_backup_key(path: Path) -> None:
    """Write a new random backup key (owner-only). Keep a copy away from the server."""
    from salus.core.keys import _write_private

    if Path(path).exists():
        raise BackupError(f"{path} exists already; not overwriting a backup key")
    _write_private(Path(path), base64.b64encode(secrets.token_bytes(32)) + b"\n")


def _derive(source: KeySource, header: dict) -> bytes:
    if header["key"] == "passphrase":
        if not source.passphrase:
            raise BackupError("this backup was made with a passphrase: give it (stdin or SALUS_BACKUP_PASSPHRASE_FILE)")
        from salus.core.keyvault import _derive as argon2id

        return argon2id(source.passphrase, base64.b64decode(header["salt"]), header["t"], header["m"], header["p"])
    if not source.key:
        raise BackupError("this backup was made with a backup key file: give it with --key-file")
    return source.key


def _new_header(source: KeySource) -> dict:
    from salus.core import keyvault

    header: dict[str, object] = {"format": FORMAT, "key": source.describe(), "nonce_prefix": base64.b64encode(secrets.token_bytes(8)).decode()}
    if source.passphrase:
        if len(source.passphrase) < keyvault.MIN_PASSPHRASE_LENGTH:
            raise BackupError(f"the backup passphrase must have at least {keyvault.MIN_PASSPHRASE_LENGTH} characters")
        header.update(
            kdf="argon2id", t=keyvault.ARGON2_TIME, m=keyvault.ARGON2_MEMORY_KIB, p=keyvault.ARGON2_PARALLELISM,
            salt=base64.b64encode(secrets.token_bytes(16)).decode(),
        )
    return header


def _aad(header_bytes: bytes, index: int, last: bool) -> bytes:
    return hashlib.sha256(header_bytes).digest() + struct.pack(">I?", index, last)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def encrypt_stream(plain: io.BufferedReader, out, source: KeySource) -> None:
    header = _new_header(source)
    header_bytes = json.dumps(header, sort_keys=True).encode()
    key = AESGCM(_derive(source, header))
    prefix = base64.b64decode(header["nonce_prefix"])
    out.write(MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes)
    index = 0
    chunk = plain.read(CHUNK)
    while True:
        following = plain.read(CHUNK)
        last = not following
        sealed = key.encrypt(_nonce(prefix, index), chunk, _aad(header_bytes, index, last))
        out.write(struct.pack(">I", len(sealed)) + sealed)
        if last:
            return
        chunk, index = following, index + 1


def decrypt_stream(inp, out, source: KeySource) -> None:
    """Decrypt a backup into ``out``; BackupError if it is damaged, truncated or foreign."""
    magic = inp.read(len(MAGIC))
    if magic != MAGIC:
        raise BackupError("this is not a Salus backup file")
    try:
        (hlen,) = struct.unpack(">I", inp.read(4))
        header_bytes = inp.read(hlen)
        header = json.loads(header_bytes)
    except (struct.error, ValueError):
        raise BackupError("the backup's header is damaged") from None
    if header.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {header.get('format')!r}")
    key = AESGCM(_derive(source, header))
    prefix = base64.b64decode(header["nonce_prefix"])
    index = 0
    while True:
        size_bytes = inp.read(4)
        if len(size_bytes) < 4:
            raise BackupError("the backup is truncated (its last part is missing)")
        (size,) = struct.unpack(">I", size_bytes)
        sealed = inp.read(size)
        if len(sealed) < size:
            raise BackupError("the backup is truncated (its last part is missing)")
        for last in (False, True):
            try:
                out.write(key.decrypt(_nonce(prefix, index), sealed, _aad(header_bytes, index, last)))
                break
            except InvalidTag:
                continue
        else:
            if index == 0:
                raise BackupError(
                    "the backup does not open: wrong passphrase or key, or it was made by another "
                    "program, or it is damaged"
                )
            raise BackupError(f"the backup is damaged (part {index + 1} fails its integrity check)")
        if last:
            if inp.read(1):
                raise BackupError("the backup has data after its end (damaged or spliced)")
            return
        index += 1


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for version in ("17", "16", "15", "14"):
        candidate = f"/usr/lib/postgresql/{version}/bin/{name}"
        if os.path.exists(candidate):
            return candidate
    return None


def _pg_url() -> str:
    return os.environ.get("DATABASE_URL", "")


def _snapshot_database(workdir: Path) -> tuple[str, str]:
    """Write a consistent copy of the database into ``workdir``; return (member name, kind)."""
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        target = workdir / "salus.sqlite3"
        src = sqlite3.connect(db["NAME"])
        dst = sqlite3.connect(target)
        try:
            # The online backup API copies a consistent snapshot while writers go on.
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return target.name, "sqlite"
    if connection.vendor == "postgresql":
        pg_dump = _pg_bin("pg_dump")
        if pg_dump and _pg_url():
            target = workdir / "database.pgdump"
            subprocess.run(
                [pg_dump, "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), _pg_url()],
                check=True, capture_output=True,
            )
            return target.name, "pg_dump"
        return _dumpdata(workdir), "dumpdata"
    raise BackupError(f"backups of {connection.vendor} databases are not supported")


def _dumpdata(workdir: Path) -> str:
    from django.core.management import call_command
    from django.db import connection, transaction

    from salus.core.models import AuditEvent

    target = workdir / "database.json"
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One snapshot for every table: rows written meanwhile are all in or all out.
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with open(target, "w") as f:
            call_command(
                "dumpdata", "--exclude=contenttypes", "--exclude=auth.permission", "--exclude=sessions",
                "--exclude=core.auditevent", stdout=f, verbosity=0,
            )
        # dumpdata keeps times to the millisecond; the audit chain hashes them to the
        # microsecond, so audit rows go in their own file, exactly as stored.
        with open(workdir / AUDIT_MEMBER, "w") as f:
            for row in AuditEvent.objects.order_by("seq").values().iterator(chunk_size=2000):
                f.write(json.dumps({**row, "at": row["at"].isoformat()}, sort_keys=True, default=str) + "\n")
    return target.name


def _load_audit(path: Path) -> None:
    import datetime as dt_

    from django.core.management.color import no_style
    from django.db import connection

    from salus.core.models import AuditEvent

    batch = []
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            row["at"] = dt_.datetime.fromisoformat(row["at"])
            batch.append(AuditEvent(**row))
            if len(batch) >= 2000:
                AuditEvent.objects.bulk_create(batch)
                batch = []
    AuditEvent.objects.bulk_create(batch)
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [AuditEvent]):
            cur.execute(sql)


def _salus_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("salus")
    except PackageNotFoundError:
        return "unknown"


def make_backup(dest: Path, source: KeySource) -> dict:
    """Write an encrypted backup of the database and key files to ``dest``; return its manifest."""
    from django.conf import settings

    from salus.core import keys

    home = Path(settings.SALUS_HOME)
    tmp_root = home / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
        work = Path(tmp)
        db_member, db_kind = _snapshot_database(work)
        (work / "keys").mkdir(mode=0o700)
        members = [db_member] + ([AUDIT_MEMBER] if db_kind == "dumpdata" else [])
        for path in (keys.uic_key_path(), keys.field_keys_path()):
            if not path.exists():
                raise BackupError(f"key file {path} is missing: run 'salus init' first")
            shutil.copyfile(path, work / "keys" / path.name)
            members.append(f"keys/{path.name}")
        manifest = {
            "format": FORMAT,
            "salus_version": _salus_version(),
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "database": db_kind,
            "key_files": {"uic": keys.uic_key_path().name, "field": keys.field_keys_path().name},
            "files": {m: {"sha256": _sha256_file(work / m), "size": (work / m).stat().st_size} for m in members},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        tar_path = work / "payload.tar"
        with tarfile.open(tar_path, "w") as tar:
            tar.add(work / "manifest.json", arcname="manifest.json")
            for m in members:
                tar.add(work / m, arcname=m)
        dest = Path(dest)
        partial = dest.with_name(dest.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, open(tar_path, "rb") as plain:
            encrypt_stream(plain, out, source)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, dest)
    return manifest


def _safe_members(tar: tarfile.TarFile, manifest: dict) -> None:
    allowed = set(manifest["files"]) | {"manifest.json"}
    for m in tar.getmembers():
        if m.name not in allowed or not m.isfile():
            raise BackupError(f"the backup holds an unexpected entry {m.name!r}; refusing it")


def open_backup(path: Path, source: KeySource, workdir: Path) -> dict:
    """Decrypt and unpack a backup into ``workdir`` and check its manifest; return the manifest."""
    tar_path = workdir / "payload.tar"
    with open(path, "rb") as inp, open(tar_path, "wb") as out:
        decrypt_stream(inp, out, source)
    try:
        with tarfile.open(tar_path, "r") as tar:
            manifest_file = tar.extractfile("manifest.json")
            if manifest_file is None:  # not a regular file (a directory...)
                raise BackupError("the backup's content is damaged (its manifest is not a file)")
            manifest = json.load(manifest_file)
            if manifest.get("format") != FORMAT:
                raise BackupError("the backup's manifest has an unknown format")
            _safe_members(tar, manifest)
            tar.extractall(workdir / "content", filter="data")
    except (tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"the backup's content is damaged ({exc})") from None
    for name, meta in manifest["files"].items():
        member = workdir / "content" / name
        if not member.exists() or _sha256_file(member) != meta["sha256"]:
            raise BackupError(f"{name} in the backup does not match its manifest checksum")
    return manifest


def verify_backup(path: Path, source: KeySource) -> dict:
    """Open a backup completely without restoring it; return its manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        return open_backup(path, source, Path(tmp))


def _restore_database(kind: str, content: Path, db: dict, is_sqlite: bool) -> None:
    from django.db import connection

    if kind == "sqlite":
        if not is_sqlite:
            raise BackupError("this backup holds a SQLite database; unset DATABASE_URL to restore it")
        connection.close()
        os.replace(content / "salus.sqlite3", db["NAME"])
    elif kind == "pg_dump":
        pg_restore = _pg_bin("pg_restore")
        if is_sqlite or not pg_restore:
            raise BackupError("this backup holds a PostgreSQL dump: set DATABASE_URL and install pg_restore")
        connection.close()
        subprocess.run(
            [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", _pg_url(),
             str(content / "database.pgdump")],
            check=True, capture_output=True,
        )
    elif kind == "dumpdata":
        from django.core.management import call_command
        from django.db import transaction

        call_command("migrate", interactive=False, verbosity=0)
        with transaction.atomic():
            call_command("loaddata", str(content / "database.json"), verbosity=0)
            _load_audit(content / AUDIT_MEMBER)
    else:
        raise BackupError(f"unknown database kind {kind!r} in the backup")


def restore_backup(path: Path, source: KeySource) -> dict:
    """Restore a backup into the (empty) data directory and database; return its manifest.

    Refuses if the data directory already holds a database or key files, so a restore never
    overwrites a program.
    """
    from django.conf import settings
    from django.db import connection

    from salus.core import keys

    home = Path(settings.SALUS_HOME)
    db = settings.DATABASES["default"]
    is_sqlite = db["ENGINE"].endswith("sqlite3")
    occupied = [p for p in (keys.uic_key_path(), keys.field_keys_path()) if p.exists()]
    if is_sqlite and Path(db["NAME"]).exists() and Path(db["NAME"]).stat().st_size > 0:
        occupied.append(Path(db["NAME"]))
    if not is_sqlite:
        with connection.cursor() as cur:
            if "core_auditevent" in connection.introspection.table_names(cur):
                occupied.append(Path(f"database {db.get('NAME')}"))
    if occupied:
        raise BackupError(
            "restore needs an empty data directory and database; found: " + ", ".join(str(p) for p in occupied)
        )
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=home) as tmp:
        work = Path(tmp)
        manifest = open_backup(path, source, work)
        content = work / "content"
        # Keys first: loading a JSON dump encrypts field values again with them.
        written = []
        for path_, name in ((keys.uic_key_path(), manifest["key_files"]["uic"]),
                            (keys.field_keys_path(), manifest["key_files"]["field"])):
            keys._write_private(path_, (content / "keys" / name).read_bytes())
            written.append(path_)
        keys.reset_cache()
        try:
            _restore_database(manifest["database"], content, db, is_sqlite)
        except BaseException:
            # Leave the data directory as empty as it was, so the restore can be tried again.
            for path_ in written:
                path_.unlink(missing_ok=True)
            keys.reset_cache()
            raise
    keys.reset_cache()
    return manifest
