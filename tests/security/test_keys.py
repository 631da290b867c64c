"""Field key rotation and passphrase protection of the key files."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection

from salus.core import auth, crypto, keys, keyvault
from salus.core.models import AuditEvent, User
from salus.services.actions import do_record_overdose
from salus.services.models import Contact, OverdoseEvent

PASSPHRASE = "a long passphrase for tests"


def _raw(table, column):
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE {column} <> ''")
        return [r[0] for r in cur.fetchall()]


def test_it_rotates_every_encrypted_value_and_drops_the_old_key(own_keys, program, record_contact):
    contacts = [
        record_contact(program.site_a, "MAJO1985M", notes=f"note {i}", hiv_test_result="negative")
        for i in range(7)
    ]
    od = do_record_overdose("test", client=contacts[0].client, site=program.site_a, date=dt.date(2026, 1, 2),
                            involvement="witnessed", naloxone_given=True, naloxone_kits_used=1, outcome="survived",
                            emergency_called=False, details="behind the market")
    secret = auth.new_totp_secret()
    auth.do_enable_totp("test", program.worker_a, secret)
    old = keys.field_keyring().active
    counts = keyvault.do_rotate_field_keys("test", batch_size=3)
    ring = keys.field_keyring()
    assert ring.active != old and set(ring.keys) == {ring.active}
    assert counts["services_contact"] == 14  # notes and HIV result of 7 contacts
    for table, column in (("services_contact", "notes"), ("services_contact", "hiv_result"),
                          ("services_overdoseevent", "details"), ("core_user", "totp_secret")):
        values = _raw(table, column)
        assert values and all(crypto.key_id_of(v) == ring.active for v in values), (table, column)
    assert sorted(c.notes for c in Contact.objects.all()) == sorted(f"note {i}" for i in range(7))
    assert OverdoseEvent.objects.get(pk=od.pk).details == "behind the market"
    assert crypto.decrypt(User.objects.get(pk=program.worker_a.pk).totp_secret, auth.TOTP_CONTEXT) == secret
    assert old not in json.loads((own_keys / "field-keys.json").read_text())["keys"]
    ev = AuditEvent.objects.filter(action="keys.rotate").latest("seq")
    assert ev.detail["removed_keys"] == [old]


def test_it_keeps_old_keys_until_every_value_is_rewritten(own_keys, program, record_contact, monkeypatch):
    record_contact(program.site_a, notes="first")
    record_contact(program.site_a, "FATI1990F", notes="second")
    old = keys.field_keyring().active
    real_encrypt = crypto.encrypt
    calls = []

    def failing(plaintext, context):
        calls.append(context)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real_encrypt(plaintext, context)

    monkeypatch.setattr(crypto, "encrypt", failing)
    with pytest.raises(RuntimeError):
        keyvault.do_rotate_field_keys("test", batch_size=1)
    monkeypatch.setattr(crypto, "encrypt", real_encrypt)
    keys.reset_cache()
    assert old in keys.field_keyring().keys
    assert sorted(c.notes for c in Contact.objects.all()) == ["first", "second"]
    keyvault.do_rotate_field_keys("test", resume=True)
    assert set(keys.field_keyring().keys) == {keys.field_keyring().active}
    assert sorted(c.notes for c in Contact.objects.all()) == ["first", "second"]


def test_it_wraps_the_key_files_with_a_passphrase(own_keys, program, record_contact):
    record_contact(program.site_a, notes="kept secret")
    ring_before, uic_before = keys.field_keyring(), keys.uic_key()
    keyvault.protect(PASSPHRASE)
    for name in ("field-keys.json", "uic.key"):
        data = (own_keys / name).read_bytes()
        assert keyvault.is_wrapped(data)
    raw_ring = (own_keys / "field-keys.json").read_text()
    for key in ring_before.keys.values():
        import base64

        assert base64.b64encode(key).decode() not in raw_ring
    keys.reset_cache()
    with pytest.raises(keyvault.VaultError, match="passphrase"):
        keys.field_keyring()
    keyvault.set_passphrase("not the passphrase at all")
    keys.reset_cache()
    with pytest.raises(keyvault.VaultError, match="wrong"):
        keys.uic_key()
    keyvault.set_passphrase(PASSPHRASE)
    keys.reset_cache()
    assert keys.field_keyring() == ring_before and keys.uic_key() == uic_before
    assert Contact.objects.get().notes == "kept secret"


def test_it_reads_the_passphrase_from_a_file(own_keys, tmp_path, monkeypatch):
    ring = keys.field_keyring()
    keyvault.protect(PASSPHRASE)
    (tmp_path / "stick").write_text(PASSPHRASE + "\n")
    monkeypatch.setenv("SALUS_KEY_PASSPHRASE_FILE", str(tmp_path / "stick"))
    keys.reset_cache()
    assert keys.field_keyring() == ring


def test_it_rotates_protected_keys_and_keeps_them_protected(own_keys, program, record_contact):
    record_contact(program.site_a, notes="x")
    keyvault.protect(PASSPHRASE)
    keyvault.set_passphrase(PASSPHRASE)
    keys.reset_cache()
    keyvault.do_rotate_field_keys("test")
    assert keyvault.is_wrapped((own_keys / "field-keys.json").read_bytes())
    assert Contact.objects.get().notes == "x"


def test_it_unwraps_again(own_keys):
    ring = keys.field_keyring()
    keyvault.protect(PASSPHRASE)
    keyvault.set_passphrase(PASSPHRASE)
    keyvault.unprotect()
    keyvault.set_passphrase(None)
    keys.reset_cache()
    assert not keyvault.any_wrapped() and keys.field_keyring() == ring


def test_it_refuses_a_short_passphrase(own_keys):
    with pytest.raises(keyvault.VaultError):
        keyvault.protect("short")
    assert not keyvault.any_wrapped()


def test_it_asks_for_the_passphrase_before_serving(own_keys):
    import io

    ring = keys.field_keyring()
    keyvault.protect(PASSPHRASE)
    keys.reset_cache()
    with pytest.raises(keyvault.VaultError, match="wrong"):
        keyvault.unlock_for_serving(stdin=io.StringIO("not the right passphrase\n"))
    keyvault.set_passphrase(None)
    keyvault.unlock_for_serving(stdin=io.StringIO(PASSPHRASE + "\n"))
    assert keys.field_keyring() == ring


def test_init_says_what_each_new_key_file_protects(own_keys, db, capsys):
    """``salus init`` names what is lost without each key file it creates, so the operator
    backs both up: the UIC key matches identifier codes, the field keys read encrypted values."""
    import argparse

    from salus.core.cli import cmd_init

    (own_keys / "uic.key").unlink()
    (own_keys / "field-keys.json").unlink()
    try:
        assert cmd_init(argparse.Namespace()) == 0
    finally:
        keys.reset_cache()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("created key file")]
    by_file = {line.split()[3].rstrip(":").rsplit("/", 1)[-1]: line for line in lines}
    assert set(by_file) == {"uic.key", "field-keys.json"}
    assert "identifier code" in by_file["uic.key"] and "encrypted field" not in by_file["uic.key"]
    assert "encrypted field" in by_file["field-keys.json"] and "identifier code" not in by_file["field-keys.json"]
