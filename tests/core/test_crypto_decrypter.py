"""crypto.decrypter: the bulk mirror of crypto.decrypt."""

from __future__ import annotations

import base64

import pytest

from salus.core import crypto, keys, keyvault

CONTEXT = "services.Contact.hiv_result"


def _tamper(token: str) -> str:
    """The token with one bit of its ciphertext flipped (still valid base64)."""
    head, kid, payload = token.split(".", 2)
    raw = bytearray(base64.b64decode(payload))
    raw[14] ^= 1
    return f"{head}.{kid}.{base64.b64encode(bytes(raw)).decode()}"


def test_it_reads_what_encrypt_and_encrypter_wrote(own_keys):
    decrypt = crypto.decrypter(CONTEXT)
    values = ["positive", "negative", "", "not_given", "é ünïcode ✓", "x" * 500]
    tokens = [crypto.encrypt(v, CONTEXT) for v in values]
    tokens += [crypto.encrypter(CONTEXT)(v) for v in values]
    assert [decrypt(t) for t in tokens] == values + values
    assert [decrypt(t) for t in tokens] == [crypto.decrypt(t, CONTEXT) for t in tokens]


def test_it_refuses_a_tampered_token(own_keys):
    decrypt = crypto.decrypter(CONTEXT)
    token = crypto.encrypt("positive", CONTEXT)
    assert decrypt(token) == "positive"
    with pytest.raises(crypto.DecryptionError):
        decrypt(_tamper(token))
    # The same failures as crypto.decrypt for a value that is not a token at all.
    for bad in ("positive", "v1.nokey", f"v1.{keys.field_keyring().active}.!!!", "v1.unknown.AAAA"):
        with pytest.raises(crypto.DecryptionError):
            decrypt(bad)
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(bad, CONTEXT)


def test_it_refuses_a_token_of_another_column(own_keys):
    token = crypto.encrypt("positive", "services.Contact.hcv_result")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypter(CONTEXT)(token)


def test_it_reads_values_under_the_old_and_the_new_key_during_a_rotation(own_keys):
    old_token = crypto.encrypt("negative", CONTEXT)
    # A rotation's first step: a new active key; values keep the old one until rewritten.
    path = keys.field_keys_path()
    ring = keyvault.load_ring(path)
    old = ring["active"]
    ring["keys"]["newkey01"] = base64.b64encode(bytes(range(32))).decode()
    ring["active"] = "newkey01"
    keyvault.save_ring(path, ring)
    keys.reset_cache()
    new_token = crypto.encrypt("positive", CONTEXT)
    assert crypto.key_id_of(old_token) == old and crypto.key_id_of(new_token) == "newkey01"
    decrypt = crypto.decrypter(CONTEXT)
    assert [decrypt(new_token), decrypt(old_token), decrypt(new_token)] == ["positive", "negative", "positive"]
