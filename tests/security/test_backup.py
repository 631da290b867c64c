"""Encrypted backups: made while the program runs, restored into an empty data directory,
refused when damaged, truncated or made by another program."""

from __future__ import annotations

import io
import secrets
import tarfile

import pytest
from tests.security import fresh

from salus.core import backup

PASSPHRASE = "backup passphrase for tests"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A program with data and a backup of it (made once for this module: it takes seconds)."""
    home = tmp_path_factory.mktemp("program")
    contact_id = fresh.python(home, fresh.SEED.format(uic="ZAKA1979M", note="a note", detail="a detail"), init=True)
    path = home.parent / "program.salus"
    fresh.salus(home, "backup", str(path), stdin=PASSPHRASE + "\n")
    return home, path, contact_id.strip()


def test_it_restores_a_backup_into_an_empty_directory(made, tmp_path):
    home, path, contact_id = made
    target = tmp_path / "restored"
    result = fresh.salus(target, "restore", str(path), stdin=PASSPHRASE + "\n")
    assert "restored" in result.stdout
    out = fresh.python(target, """
from salus.clients import uic
from salus.clients.actions import find_by_hashes
from salus.core import audit
from salus.services.models import Contact, OverdoseEvent
c = Contact.objects.get()
print(c.pk, repr(c.notes), c.hiv_result, repr(OverdoseEvent.objects.get().details), audit.verify().ok,
      find_by_hashes(uic.hash_raw("ZAKA1979M")) == c.client)
""").split()
    # Data, the field keys (values decrypt) and the UIC key (the same code finds the client).
    assert out == [contact_id, "'a", "note'", "positive", "'a", "detail'", "True", "True"]
    # Restoring over a program is refused.
    again = fresh.salus(target, "restore", str(path), stdin=PASSPHRASE + "\n", check=False)
    assert again.returncode == 2 and "empty data directory" in again.stderr


def _open(data: bytes, source: backup.KeySource) -> None:
    backup.decrypt_stream(io.BytesIO(data), io.BytesIO(), source)


def test_it_holds_nothing_readable(made):
    _home, path, _id = made
    data = path.read_bytes()
    for needle in (b"a note", b"a detail", b"SQLite format", b"field-keys", b"manifest", b"ZAKA"):
        assert needle not in data
    _open(data, backup.KeySource(passphrase=PASSPHRASE))


def test_it_refuses_a_wrong_passphrase(made):
    _home, path, _id = made
    with pytest.raises(backup.BackupError, match="does not open"):
        _open(path.read_bytes(), backup.KeySource(passphrase="some other passphrase"))


def test_it_refuses_a_damaged_backup(made):
    _home, path, _id = made
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    with pytest.raises(backup.BackupError, match="damaged"):
        _open(bytes(data), backup.KeySource(passphrase=PASSPHRASE))


def test_it_refuses_a_truncated_backup(made):
    _home, path, _id = made
    data = path.read_bytes()
    with pytest.raises(backup.BackupError, match="truncated|damaged"):
        _open(data[:-100], backup.KeySource(passphrase=PASSPHRASE))
    # Dropping whole chunks at the end is caught too: the last chunk is marked as last.
    three_chunks = io.BytesIO()
    backup.encrypt_stream(io.BytesIO(b"x" * (backup.CHUNK * 2 + 10)), three_chunks, backup.KeySource(passphrase=PASSPHRASE))
    raw = three_chunks.getvalue()
    # The last chunk is 10 bytes: 4 (length) + 10 + 16 (tag) bytes on disk.
    cut = raw[: len(raw) - (4 + 10 + 16)]
    with pytest.raises(backup.BackupError, match="truncated"):
        _open(cut, backup.KeySource(passphrase=PASSPHRASE))


def test_it_refuses_a_backup_of_another_program(tmp_path):
    """A backup sealed with another program's backup key does not open with ours."""
    theirs, ours = tmp_path / "their.key", tmp_path / "our.key"
    backup.create_backup_key(theirs)
    backup.create_backup_key(ours)
    sealed = io.BytesIO()
    backup.encrypt_stream(io.BytesIO(b"payload" * 1000), sealed, backup.KeySource(key=backup.read_backup_key(theirs)))
    with pytest.raises(backup.BackupError, match="another program"):
        _open(sealed.getvalue(), backup.KeySource(key=backup.read_backup_key(ours)))
    out = io.BytesIO()
    backup.decrypt_stream(io.BytesIO(sealed.getvalue()), out, backup.KeySource(key=backup.read_backup_key(theirs)))
    assert out.getvalue() == b"payload" * 1000


def test_it_refuses_a_backup_with_a_changed_manifest_member(made, tmp_path):
    """A well-sealed archive whose database does not match the manifest checksum is refused."""
    import json
    import tarfile

    work = tmp_path / "w"
    work.mkdir()
    (work / "salus.sqlite3").write_bytes(b"not the database")
    manifest = {"format": backup.FORMAT, "database": "sqlite", "key_files": {}, "created_at": "x",
                "files": {"salus.sqlite3": {"sha256": "0" * 64, "size": 16}}}
    (work / "manifest.json").write_text(json.dumps(manifest))
    with tarfile.open(work / "p.tar", "w") as tar:
        tar.add(work / "manifest.json", arcname="manifest.json")
        tar.add(work / "salus.sqlite3", arcname="salus.sqlite3")
    sealed = tmp_path / "forged.salus"
    with open(work / "p.tar", "rb") as plain, open(sealed, "wb") as out:
        backup.encrypt_stream(plain, out, backup.KeySource(passphrase=PASSPHRASE))
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(backup.BackupError, match="checksum"):
        backup.open_backup(sealed, backup.KeySource(passphrase=PASSPHRASE), target)


def test_it_round_trips_a_json_dump_with_the_audit_chain_intact(tmp_path):
    """The PostgreSQL fallback without pg_dump (a JSON dump), exercised on SQLite: field values
    are re-encrypted on load with the restored keys, and audit times keep their microseconds."""
    source, target = tmp_path / "source", tmp_path / "target"
    fresh.python(source, fresh.SEED.format(uic="ZAKA1979M", note="json note", detail="json detail") + f"""
from pathlib import Path
from salus.core import backup
backup._snapshot_database = lambda work: (backup._dumpdata(work), "dumpdata")
backup.make_backup(Path({str(tmp_path / 'json.salus')!r}), backup.KeySource(passphrase={PASSPHRASE!r}))
""", init=True)
    out = fresh.python(target, f"""
from pathlib import Path
from salus.core import audit, backup
from salus.services.models import Contact, OverdoseEvent
manifest = backup.restore_backup(Path({str(tmp_path / 'json.salus')!r}), backup.KeySource(passphrase={PASSPHRASE!r}))
print(manifest["database"], "|", Contact.objects.get().notes, "|", OverdoseEvent.objects.get().details, "|", audit.verify().ok)
""")
    assert out.strip().splitlines()[-1] == "dumpdata | json note | json detail | True"


def test_it_refuses_an_archive_whose_manifest_is_not_a_file(tmp_path):
    """A well-sealed archive whose ``manifest.json`` is a directory: BackupError, not a crash."""
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as tar:
        entry = tarfile.TarInfo("manifest.json")
        entry.type = tarfile.DIRTYPE
        tar.addfile(entry)
    source = backup.KeySource(key=secrets.token_bytes(32))
    sealed = tmp_path / "odd.salus"
    with open(sealed, "wb") as out:
        backup.encrypt_stream(io.BytesIO(plain.getvalue()), out, source)
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(backup.BackupError, match="manifest is not a file"):
        backup.open_backup(sealed, source, target)
