"""The anonymous community feedback form and its abuse limits; "you said, we did"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from salus.care import feedback
from salus.care.models import Feedback, FeedbackResponse, FeedbackThrottle
from salus.core.models import AuditEvent


def url(site) -> str:
    return f"/care/f/{site.feedback_key}/"


GOOD = {"satisfaction": "4", "missing": "More naloxone kits", "went_wrong": "", "suggestions": "Open on Sunday"}


def post(site, data=None, ip="203.0.113.7", c=None):
    return (c or Client()).post(url(site), data or GOOD, REMOTE_ADDR=ip)


def test_it_takes_feedback_without_log_in_and_keeps_no_address(program):
    r = Client().get(url(program.site_a))
    assert r.status_code == 200 and "Tell us what you think" in r.content.decode()
    assert post(program.site_a).status_code == 200
    fb = Feedback.objects.get()
    assert fb.site == program.site_a and fb.satisfaction == 4 and fb.missing == "More naloxone kits"
    ev = AuditEvent.objects.get(action="feedback.submit")
    assert ev.ip == "" and ev.actor is None
    for row in FeedbackThrottle.objects.all():
        assert "203.0.113.7" not in row.key


def test_it_answers_404_for_an_unknown_key(program):
    assert Client().get("/care/f/not-a-key/").status_code == 404


def test_it_limits_submissions_per_address_and_window(program):
    for _ in range(feedback.PER_ADDRESS):
        assert post(program.site_a).status_code == 200
    assert post(program.site_a).status_code == 429
    # Another address is still welcome.
    assert post(program.site_a, ip="198.51.100.2").status_code == 200
    assert Feedback.objects.count() == feedback.PER_ADDRESS + 1


def test_it_limits_submissions_per_site(program, monkeypatch):
    monkeypatch.setattr(feedback, "PER_SITE", 3)
    for i in range(3):
        assert post(program.site_a, ip=f"198.51.100.{i}").status_code == 200
    assert post(program.site_a, ip="198.51.100.99").status_code == 429
    assert post(program.site_b, ip="198.51.100.99").status_code == 200


def test_it_opens_a_new_window_after_an_hour(program, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.UTC), tick=False)
    for _ in range(feedback.PER_ADDRESS):
        post(program.site_a)
    assert post(program.site_a).status_code == 429
    time_machine.move_to(dt.datetime(2026, 3, 1, 11, 1, tzinfo=dt.UTC), tick=False)
    assert post(program.site_a).status_code == 200


def test_it_stores_nothing_from_the_honeypot(program):
    r = post(program.site_a, {**GOOD, "website": "http://spam.example"})
    assert r.status_code == 200
    assert Feedback.objects.count() == 0


def test_it_refuses_too_long_answers_and_oversized_requests(program):
    r = post(program.site_a, {**GOOD, "missing": "x" * 2001})
    assert r.status_code == 200 and Feedback.objects.count() == 0
    r = post(program.site_a, {**GOOD, "missing": "x" * 1990, "went_wrong": "y" * 1990, "suggestions": "z" * 1990,
                              "extra": "w" * 12000})
    assert r.status_code == 413 and Feedback.objects.count() == 0


def test_it_needs_at_least_one_answer(program):
    post(program.site_a, {"satisfaction": "", "missing": "", "went_wrong": "", "suggestions": ""})
    assert Feedback.objects.count() == 0


def test_it_checks_csrf(program):
    c = Client(enforce_csrf_checks=True)
    assert c.post(url(program.site_a), GOOD, REMOTE_ADDR="203.0.113.9").status_code == 403
    page = c.get(url(program.site_a))
    token = page.cookies["csrftoken"].value
    r = c.post(url(program.site_a), {**GOOD, "csrfmiddlewaretoken": token}, REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 200 and Feedback.objects.count() == 1


def test_it_shows_the_form_in_the_language_the_client_picks(program):
    r = Client().get(url(program.site_a) + "?lang=ar")
    assert r.status_code == 200 and '<html lang="ar" dir="rtl">' in r.content.decode()
    post(program.site_a, {**GOOD, "lang": "ar"})
    assert Feedback.objects.get().language == "ar"


def test_it_lets_coordinators_read_feedback_and_publish_what_they_did(login, program):
    post(program.site_a)
    post(program.site_b, ip="198.51.100.1")
    c = login(program.coordinator_a)
    body = c.get("/care/feedback/").content.decode()
    assert "More naloxone kits" in body and "SB1" not in body.split("What people said")[1].split("You said, we did")[0]
    r = c.post("/care/feedback/respond/", {"site": program.site_a.pk, "you_said": "More kits", "we_did": "Doubled stock", "published": "on"})
    assert r.status_code == 302
    assert FeedbackResponse.objects.get().we_did == "Doubled stock"
    assert "Doubled stock" in Client().get(url(program.site_a)).content.decode()
    assert "Doubled stock" not in Client().get(url(program.site_b)).content.decode()
    # Not at site B.
    r = c.post("/care/feedback/respond/", {"site": program.site_b.pk, "you_said": "a", "we_did": "b", "published": "on"})
    assert FeedbackResponse.objects.count() == 1
    assert login(program.worker_a).get("/care/feedback/").status_code == 403


def test_it_draws_the_qr_code_as_svg(login, program):
    c = login(program.coordinator_a)
    r = c.get(f"/care/feedback/{program.site_a.code}/qr.svg")
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml" and b"<svg" in r.content
    assert c.get(f"/care/feedback/{program.site_b.code}/qr.svg").status_code == 404
    poster = c.get(f"/care/feedback/{program.site_a.code}/poster/").content.decode()
    assert program.site_a.feedback_key in poster


@pytest.mark.parametrize("field", ["missing", "went_wrong", "suggestions"])
def test_it_stores_free_text_encrypted(program, field):
    from django.db import connection

    post(program.site_a, {**GOOD, field: "my name is Sam"} if field != "missing" else {**GOOD, "missing": "my name is Sam"})
    with connection.cursor() as cur:
        cur.execute(f"SELECT {field} FROM care_feedback")
        (raw,) = cur.fetchone()
    assert raw.startswith("v1.") and "Sam" not in raw


def test_it_shows_no_staff_menu_on_the_form_even_with_a_staff_session(login, program):
    c = login(program.coordinator_a)
    body = c.get(url(program.site_a)).content.decode()
    assert "Lock now" not in body and "Community feedback" not in body and "coordinator_a" not in body
    assert "Lock now" in c.get("/care/feedback/").content.decode()
