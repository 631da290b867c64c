"""The site's day."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from salus.core.config import program_config
from salus.services.actions import do_create_referral
from salus.stock.actions import do_record_stock_movement
from salus.stock.models import Commodity

URL = reverse("web-home")


def test_it_counts_todays_contacts_at_the_users_sites(program, login, record_contact):
    record_contact(program.site_a, raw_uic="MAJO1985M", syringes_given=10, condoms_given=3)
    record_contact(program.site_a, raw_uic="FAAL1990F", syringes_given=5, hiv_test_result="negative")
    record_contact(program.site_b, raw_uic="ZZYY1970M", syringes_given=1000)
    response = login(program.worker_a).get(URL)
    assert response.status_code == 200
    totals = response.context["totals"]
    assert totals["contacts"] == 2
    assert totals["clients"] == 2
    assert totals["syringes"] == 15
    assert totals["condoms"] == 3
    assert totals["hiv_tests"] == 1


def test_it_leaves_out_other_days(program, login, record_contact):
    record_contact(program.site_a, when=timezone.now() - dt.timedelta(days=3), syringes_given=7)
    totals = login(program.worker_a).get(URL).context["totals"]
    assert totals["contacts"] == 0 and totals["syringes"] == 0


def test_it_counts_referrals_due_for_follow_up(program, login, record_contact):
    client = record_contact(program.site_a).client
    days = program_config().referral_follow_up_days
    today = timezone.localdate()
    do_create_referral("test", client=client, site=program.site_a, service="hiv_care", made_on=today - dt.timedelta(days=days))
    do_create_referral("test", client=client, site=program.site_a, service="tb", made_on=today - dt.timedelta(days=days - 1))
    response = login(program.worker_a).get(URL)
    assert response.context["referrals_due"] == 1
    assert "1 referral due for follow-up" in response.content.decode()


def test_it_flags_stock_below_zero(program, login, record_contact):
    commodity = Commodity.objects.get(code="syringe")
    do_record_stock_movement("test", site=program.site_a, commodity=commodity, kind="receipt", quantity=5,
                             occurred_on=timezone.localdate())
    record_contact(program.site_a, syringes_given=8)
    response = login(program.worker_a).get(URL)
    assert [(level.commodity_id, level.quantity) for level in response.context["negative_stock"]] == [("syringe", -3)]
    assert "to reconcile" in response.content.decode()


def test_it_does_not_show_another_sites_stock(program, login, record_contact):
    record_contact(program.site_b, syringes_given=8)
    assert login(program.worker_a).get(URL).context["negative_stock"] == []


def test_it_sends_the_analyst_to_the_indicators(program, login, record_contact):
    record_contact(program.site_a)
    response = login(program.analyst).get(URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("indicators-home")


def test_it_shows_a_plain_page_to_the_analyst_without_indicators(program, login, monkeypatch):
    from django.urls import NoReverseMatch

    from salus.web.views import home

    def no_indicators(name, *args, **kwargs):
        raise NoReverseMatch(name)

    monkeypatch.setattr(home, "reverse", no_indicators)
    response = login(program.analyst).get(URL)
    assert response.status_code == 200
    assert "aggregate figures only" in response.content.decode()
    assert "totals" not in response.context


def test_it_requires_log_in(client, program):
    assert client.get(URL).status_code == 302
