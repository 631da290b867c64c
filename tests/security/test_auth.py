"""Log-in: lockout, the second factor, administrators' required TOTP, idle timeout, lock now,
API tokens."""

from __future__ import annotations

import datetime as dt
import time

import pyotp
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from salus.core import auth, crypto
from salus.core.actions import do_create_api_token, do_revoke_api_token, hash_token, user_for_token
from salus.core.models import ApiToken, AuditEvent, User

PASSWORD = "correct horse battery"
LOGIN = "/security/login/"


def _login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def _error_text(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_it_logs_in_with_the_right_password(program):
    client = Client()
    response = _login(client, "worker_a", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(program.worker_a.pk)
    assert AuditEvent.objects.filter(action="auth.login", actor_name="worker_a").exists()


def test_it_locks_an_account_after_five_failures(program):
    client = Client()
    for _ in range(auth.LOCKOUT_THRESHOLD):
        assert _login(client, "worker_a", "wrong password").status_code == 200
    user = User.objects.get(pk=program.worker_a.pk)
    assert user.locked_until is not None and user.locked_until > timezone.now()
    # Even the right password is refused while locked.
    response = _login(client, "worker_a", PASSWORD)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.lock", object_id=str(user.pk)).count() == 1


def test_it_unlocks_after_the_lockout_period(program):
    client = Client()
    for _ in range(auth.LOCKOUT_THRESHOLD):
        _login(client, "worker_a", "wrong password")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=auth.LOCKOUT_MINUTES + 1)):
        assert _login(client, "worker_a", PASSWORD).status_code == 302


def test_it_does_not_reveal_whether_a_user_exists_or_is_locked(program):
    client = Client()
    unknown = _error_text(_login(client, "nobody_here", "whatever pass"))
    wrong = _error_text(_login(client, "worker_b", "wrong password"))
    for _ in range(auth.LOCKOUT_THRESHOLD):
        _login(client, "worker_a", "wrong password")
    locked = _error_text(_login(client, "worker_a", PASSWORD))
    assert unknown == wrong == locked and unknown


def test_it_resets_the_failure_count_after_a_success(program):
    client = Client()
    for _ in range(auth.LOCKOUT_THRESHOLD - 1):
        _login(client, "worker_a", "wrong password")
    assert _login(client, "worker_a", PASSWORD).status_code == 302
    assert User.objects.get(pk=program.worker_a.pk).failed_logins == 0


def _with_totp(user) -> str:
    secret = auth.new_totp_secret()
    auth.do_enable_totp("test", user, secret)
    return secret


def test_it_asks_for_the_code_when_totp_is_on(program):
    secret = _with_totp(program.worker_a)
    client = Client()
    response = _login(client, "worker_a", PASSWORD)
    assert response.status_code == 302 and response["Location"].endswith("/security/login/code/")
    assert "_auth_user_id" not in client.session
    # A wrong code does not log in, and counts as a failure.
    assert client.post("/security/login/code/", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"}).status_code == 200
    assert "_auth_user_id" not in client.session
    assert User.objects.get(pk=program.worker_a.pk).failed_logins == 1
    response = client.post("/security/login/code/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(program.worker_a.pk)


def test_it_locks_after_repeated_wrong_codes(program):
    secret = _with_totp(program.worker_a)
    right = pyotp.TOTP(secret).now()
    wrong = "123456" if right != "123456" else "654321"
    client = Client()
    _login(client, "worker_a", PASSWORD)
    for _ in range(auth.LOCKOUT_THRESHOLD):
        client.post("/security/login/code/", {"code": wrong})
    assert auth.is_locked(User.objects.get(pk=program.worker_a.pk))


def test_it_refuses_a_code_used_before_even_within_its_window(program):
    secret = _with_totp(program.worker_a)
    code = pyotp.TOTP(secret).now()
    first = Client()
    _login(first, "worker_a", PASSWORD)
    assert first.post("/security/login/code/", {"code": code}).status_code == 302
    # Someone who saw the code (over a shoulder, in a proxy log) tries it straight away.
    second = Client()
    _login(second, "worker_a", PASSWORD)
    assert second.post("/security/login/code/", {"code": code}).status_code == 200
    assert "_auth_user_id" not in second.session
    assert User.objects.get(pk=program.worker_a.pk).failed_logins == 1
    assert AuditEvent.objects.filter(action="auth.totp_replayed", object_id=str(program.worker_a.pk)).exists()


def test_it_accepts_the_next_code_once_and_never_an_older_one():
    secret = auth.new_totp_secret()
    totp = pyotp.TOTP(secret)
    t = 1_800_000_000.0  # a fixed instant, so the test does not depend on the clock
    step = int(t // 30)
    assert auth.matching_step(secret, totp.at(t), now=t) == step
    # Drifting phones: one step either side is accepted, two is not.
    assert auth.matching_step(secret, totp.at(t - 30), now=t) == step - 1
    assert auth.matching_step(secret, totp.at(t + 30), now=t) == step + 1
    assert auth.matching_step(secret, totp.at(t - 60), now=t) is None
    assert auth.matching_step(secret, "12 34", now=t) is None


def test_it_spends_the_code_that_proved_the_set_up(program):
    user = program.worker_a
    secret = auth.new_totp_secret()
    t = 1_800_000_000.0
    step = auth.matching_step(secret, pyotp.TOTP(secret).at(t), now=t)
    auth.do_enable_totp(user, user, secret, step)
    user = User.objects.get(pk=user.pk)
    assert not auth.do_accept_totp(user, pyotp.TOTP(secret).at(t), now=t)
    assert auth.do_accept_totp(user, pyotp.TOTP(secret).at(t + 30), now=t + 30)
    # ...and an older code, still inside the window, is refused after a newer one was used.
    assert not auth.do_accept_totp(user, pyotp.TOTP(secret).at(t), now=t + 30)
    assert User.objects.get(pk=user.pk).totp_last_step == step + 1


def test_it_stores_the_totp_secret_encrypted(program):
    secret = _with_totp(program.worker_a)
    stored = User.objects.get(pk=program.worker_a.pk).totp_secret
    assert secret not in stored and stored.startswith(crypto.PREFIX)
    assert crypto.decrypt(stored, auth.TOTP_CONTEXT) == secret


def test_it_sends_an_administrator_without_totp_to_set_it_up(program):
    auth.do_reset_totp("test", program.admin)
    client = Client()
    client.force_login(User.objects.get(pk=program.admin.pk))
    response = client.get("/security/audit/")
    assert response.status_code == 302 and response["Location"].endswith("/security/two-step/")
    page = client.get("/security/two-step/")
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    # The secret waits in the session until a right code proves the app has it.
    secret = crypto.decrypt(client.session["salus_totp_setup"], "session.totp_setup")
    assert not User.objects.get(pk=program.admin.pk).totp_secret
    response = client.post("/security/two-step/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert auth.has_totp(User.objects.get(pk=program.admin.pk))
    assert client.get("/security/audit/").status_code == 200


def test_it_lets_a_worker_go_without_totp(program):
    client = Client()
    client.force_login(program.coordinator_a)
    assert client.get("/security/audit/").status_code == 200


def test_it_logs_out_after_inactivity(program, settings):
    client = Client()
    client.force_login(program.coordinator_a)
    assert client.get("/security/audit/").status_code == 200
    later = time.time() + settings.SALUS_SESSION_IDLE_MINUTES * 60 + 5
    with time_machine.travel(later):
        response = client.get("/security/audit/")
    assert response.status_code == 302 and response["Location"] == "/security/login/?timeout=1"
    assert "_auth_user_id" not in client.session


def test_it_keeps_an_active_session(program, settings):
    client = Client()
    client.force_login(program.coordinator_a)
    step = (settings.SALUS_SESSION_IDLE_MINUTES * 60) * 0.8
    for i in range(1, 4):
        with time_machine.travel(time.time() + step * i):
            assert client.get("/security/audit/").status_code == 200


def test_it_locks_the_session_at_once(program):
    client = Client()
    client.force_login(program.worker_a)
    response = client.post("/security/lock/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_stores_api_tokens_only_as_hashes(program):
    row, token = do_create_api_token("test", program.worker_a, "phone")
    stored = ApiToken.objects.get(pk=row.pk)
    assert stored.token_hash == hash_token(token) and token not in (stored.token_hash, stored.prefix)
    assert user_for_token(token) == program.worker_a


def test_it_refuses_a_revoked_token(program):
    row, token = do_create_api_token("test", program.worker_a, "phone")
    client = Client()
    auth_header = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get("/api/v1/contacts", **auth_header).status_code == 200
    do_revoke_api_token("test", row)
    assert user_for_token(token) is None
    assert client.get("/api/v1/contacts", **auth_header).status_code == 401


@pytest.mark.parametrize("username", ["worker_a", "nobody_at_all"])
def test_it_spends_a_password_hash_on_every_attempt(program, username, monkeypatch):
    """Unknown names cost a hash too, so response time does not reveal which names exist."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(MD5PasswordHasher, "encode", lambda self, pw, salt: calls.append(1) or original(self, pw, salt))
    _login(Client(), username, "wrong password")
    assert calls
