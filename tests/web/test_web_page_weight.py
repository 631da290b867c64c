"""Pages stay light for slow connections, and database work does not grow with the data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.urls import reverse
from django.utils import timezone

import salus.web

STATIC = Path(salus.web.__file__).parent / "static" / "salus"


def test_it_keeps_the_own_css_and_js_to_a_few_kilobytes():
    css = (STATIC / "css" / "salus.css").stat().st_size
    js = (STATIC / "js" / "salus.js").stat().st_size
    print(f"salus.css {css} bytes, salus.js {js} bytes")
    assert css < 8_000 and js < 3_000


def test_it_keeps_the_contact_form_small(program, login, record_contact):
    client = record_contact(program.site_a).client
    body = login(program.worker_a).get(reverse("web-contact-new", args=[client.id])).content
    print(f"contact form {len(body)} bytes")
    assert len(body) < 40_000


def test_it_reads_the_client_page_in_a_bounded_number_of_queries(program, login, record_contact,
                                                                 django_assert_max_num_queries):
    now = timezone.now()
    first = record_contact(program.site_a, when=now - dt.timedelta(days=1), referrals=["tb"])
    c = login(program.worker_a)
    url = reverse("web-client", args=[first.client_id])
    with django_assert_max_num_queries(40) as few:
        c.get(url)
    for days in range(2, 30):
        record_contact(program.site_a, when=now - dt.timedelta(days=days), referrals=["tb", "legal"])
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        c.get(url)
    print(f"client page: {len(few.captured_queries)} queries with 1 contact, {len(many.captured_queries)} with 29")


def test_it_reads_the_home_page_in_a_bounded_number_of_queries(program, login, record_contact,
                                                               django_assert_max_num_queries):
    c = login(program.coordinator_a)
    record_contact(program.site_a)
    with django_assert_max_num_queries(40) as few:
        c.get(reverse("web-home"))
    for i in range(20):
        record_contact(program.site_a, raw_uic=f"AB{chr(65 + i)}C1990F", syringes_given=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        c.get(reverse("web-home"))


def test_it_names_a_small_icon_so_browsers_do_not_ask_for_a_missing_one(client):
    """Without a named icon every browser asks for /favicon.ico on its first visit: a request
    that costs a round trip on a slow connection and ends in a 404."""
    body = client.get(reverse("web-login")).content.decode()
    assert 'rel="icon" href="/static/salus/img/icon.svg"' in body
    assert (STATIC / "img" / "icon.svg").stat().st_size < 1_000
