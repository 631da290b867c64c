"""The base layout: language and direction, the synthetic-data banner, the menu, lock now."""

from __future__ import annotations

import re

from django.urls import reverse

from salus.core import config
from salus.core.middleware import CONTENT_SECURITY_POLICY


def test_it_serves_english_left_to_right_by_default(program, login):
    body = login(program.worker_a).get(reverse("web-client-find")).content.decode()
    assert '<html lang="en" dir="ltr">' in body


def test_it_switches_to_arabic_right_to_left(program, login):
    c = login(program.worker_a)
    response = c.post(reverse("set_language"), {"language": "ar", "next": reverse("web-client-find")})
    assert response.status_code == 302
    body = c.get(reverse("web-client-find")).content.decode()
    assert '<html lang="ar" dir="rtl">' in body
    assert "البحث عن مستفيد" in body
    assert "أول حرفين من اسم الأم الأول" in body


def test_it_offers_every_configured_language(program, login, settings):
    body = login(program.worker_a).get(reverse("web-home")).content.decode()
    for code, _name in settings.LANGUAGES:
        assert f'value="{code}"' in body


def test_it_shows_the_synthetic_banner_only_for_demo_data(program, login, monkeypatch, tmp_path):
    c = login(program.worker_a)
    assert "SYNTHETIC DEMO DATA" not in c.get(reverse("web-home")).content.decode()
    (tmp_path / "program.toml").write_text("synthetic = true\n")
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(tmp_path / "program.toml"))
    config.reset_cache()
    assert "SYNTHETIC DEMO DATA" in c.get(reverse("web-home")).content.decode()


def test_it_filters_the_menu_by_capability(program, login):
    worker_body = login(program.worker_a).get(reverse("web-home")).content.decode()
    assert reverse("web-client-find") in worker_body
    assert f'href="{reverse("web-duplicates")}"' not in worker_body
    coordinator_body = login(program.coordinator_a).get(reverse("web-home")).content.decode()
    assert f'href="{reverse("web-duplicates")}"' in coordinator_body


def test_it_offers_lock_now_to_logged_in_users_only(client, program, login):
    assert reverse("web-lock") not in client.get(reverse("web-login")).content.decode()
    assert reverse("web-lock") in login(program.worker_a).get(reverse("web-home")).content.decode()


def test_it_keeps_the_login_page_working(client, program):
    page = client.get(reverse("web-login"))
    assert page.status_code == 200
    response = client.post(reverse("web-login"), {"username": "worker_a", "password": "correct horse battery"})
    assert response.status_code == 302


def test_it_has_no_inline_script_or_style(program, login, record_contact):
    contact = record_contact(program.site_a)
    c = login(program.coordinator_a)
    for url in (reverse("web-home"), reverse("web-client-find"), reverse("web-client", args=[contact.client_id]),
                reverse("web-contact-new", args=[contact.client_id]), reverse("web-referrals"), reverse("web-stock")):
        response = c.get(url)
        body = response.content.decode()
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert " style=" not in body and "<style" not in body
        for tag in re.findall(r"<script[^>]*>", body):
            assert "src=" in tag, tag
        assert re.search(r"<script[^>]*>\s*[^<\s]", body) is None
