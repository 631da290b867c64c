"""Web hardening: CSRF on forms, security headers, no-store, Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys

from django.test import Client

from salus.core.middleware import CONTENT_SECURITY_POLICY


def test_it_refuses_a_log_in_post_without_csrf_token(program):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/security/login/", {"username": "worker_a", "password": "correct horse battery"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_it_accepts_a_log_in_post_with_its_csrf_token(program):
    client = Client(enforce_csrf_checks=True)
    client.get("/security/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/security/login/", {"username": "worker_a", "password": "correct horse battery", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_it_refuses_a_logged_in_form_post_without_csrf_token(program):
    client = Client(enforce_csrf_checks=True)
    client.force_login(program.worker_a)
    assert client.post("/security/two-step/", {"code": "123456"}).status_code == 403
    assert client.post("/security/lock/").status_code == 403


def test_it_sends_the_security_headers(program):
    client = Client()
    client.force_login(program.coordinator_a)
    response = client.get("/security/audit/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"


def test_it_keeps_client_pages_out_of_the_browser_cache(program, record_contact):
    contact = record_contact(program.site_a)
    client = Client()
    client.force_login(program.worker_a)
    # Whatever page shows a client (web or API), the browser must not store it.
    from salus.core.actions import do_create_api_token

    _row, token = do_create_api_token("test", program.worker_a, "t")
    response = client.get(f"/api/v1/contacts/{contact.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"


def test_it_passes_the_deployment_checks_with_production_settings(tmp_path):
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("SALUS_", "DJANGO_", "DATABASE_URL"))
    }
    env.update(
        SALUS_HOME=str(tmp_path), SALUS_HTTPS="True", SALUS_DEBUG="False",
        SALUS_ALLOWED_HOSTS="salus.example.org", DJANGO_SETTINGS_MODULE="salus.settings",
    )
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_fails_the_deployment_checks_without_https(tmp_path):
    """The check above must be able to fail: without SALUS_HTTPS cookies are not secure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALUS_", "DJANGO_", "DATABASE_URL"))}
    env.update(SALUS_HOME=str(tmp_path), SALUS_HTTPS="False", DJANGO_SETTINGS_MODULE="salus.settings")
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stdout + result.stderr
