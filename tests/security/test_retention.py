"""Retention: purge past the retention period keeping aggregates; erasing one client."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from salus.clients.models import Client
from salus.core import audit, retention
from salus.core.models import AuditEvent
from salus.core.retention import RetainedAggregate
from salus.services.actions import do_end_ost_episode, do_record_overdose, do_start_ost_episode
from salus.services.models import Contact, OSTEpisode, OverdoseEvent, Referral
from salus.stock.actions import do_record_stock_movement
from salus.stock.models import Commodity, StockLevel, StockMovement

TODAY = dt.date(2026, 6, 15)


def _stock_exact():
    for level in StockLevel.objects.all():
        total = StockMovement.objects.filter(site=level.site, commodity=level.commodity).aggregate(s=Sum("quantity"))["s"] or 0
        assert level.quantity == total, f"{level}: level {level.quantity} != movements {total}"


def _old_and_new(program, record_contact):
    old_day = dt.date(2014, 3, 10)
    old1 = record_contact(program.site_a, "MAJO1985M", when=old_day, syringes_given=10, hiv_test_result="positive",
                          notes="old note", referrals=["ost"])
    old2 = record_contact(program.site_a, "FATI1990F", when=old_day + dt.timedelta(days=2), syringes_given=5, condoms_given=3)
    old3 = record_contact(program.site_a, "MAJO1985M", when=old_day + dt.timedelta(days=5), syringes_given=1)
    recent = record_contact(program.site_a, "FATI1990F", when=dt.date(2026, 5, 1), syringes_given=7)
    do_record_overdose("test", client=old1.client, site=program.site_a, date=old_day, involvement="witnessed",
                       naloxone_given=True, naloxone_kits_used=1, outcome="survived", emergency_called=False)
    ep = do_start_ost_episode("test", client=old1.client, site=program.site_a, medication="methadone",
                              start_date=dt.date(2013, 1, 5))
    do_end_ost_episode("test", ep, end_date=dt.date(2014, 1, 5), end_reason="completed")
    return old1, old2, old3, recent


@pytest.fixture
def stocked(program):
    commodity = Commodity.objects.get(code="syringe")
    do_record_stock_movement("test", site=program.site_a, commodity=commodity, kind="receipt", quantity=1000,
                             occurred_on=dt.date(2013, 1, 1))
    return commodity


def test_it_keeps_monthly_aggregates_and_deletes_old_records(program, record_contact, stocked):
    old1, old2, old3, recent = _old_and_new(program, record_contact)
    audit_rows = AuditEvent.objects.count()
    result = retention.do_purge("test", years=10, today=TODAY)
    assert result["cutoff"] == "2016-06-01"
    assert set(Contact.objects.all()) == {recent}
    assert not Referral.objects.exists() and not OverdoseEvent.objects.exists() and not OSTEpisode.objects.exists()
    # MAJO1985M had only old records: gone. FATI1990F has a recent contact: kept.
    assert not Client.objects.filter(pk=old1.client_id).exists()
    assert Client.objects.filter(pk=recent.client_id).exists()
    kept = {(a.month, a.measure): a.value for a in RetainedAggregate.objects.filter(site_code="NA1", reason="purged")}
    march = dt.date(2014, 3, 1)
    assert kept[(march, "contacts")] == 3
    assert kept[(march, "clients")] == 2
    assert kept[(march, "syringes_given")] == 16
    assert kept[(march, "hiv_positive")] == 1
    assert kept[(march, "referrals")] == 1
    assert kept[(march, "overdoses")] == 1
    assert kept[(dt.date(2013, 1, 1), "ost_episodes_started")] == 1
    # Audit rows are never deleted; the purge adds one.
    assert AuditEvent.objects.count() == audit_rows + 1
    assert AuditEvent.objects.latest("seq").action == "retention.purge"
    assert audit.verify().ok


def test_it_keeps_stock_levels_equal_to_movements(program, record_contact, stocked):
    _old_and_new(program, record_contact)
    _stock_exact()
    before = StockLevel.objects.get(site=program.site_a, commodity=stocked).quantity
    retention.do_purge("test", years=10, today=TODAY)
    assert StockLevel.objects.get(site=program.site_a, commodity=stocked).quantity == before
    _stock_exact()


def test_it_changes_nothing_on_a_dry_run(program, record_contact):
    _old_and_new(program, record_contact)
    n, a = Contact.objects.count(), AuditEvent.objects.count()
    result = retention.do_purge("test", years=10, today=TODAY, dry_run=True)
    assert result["would_delete"]["contacts"] == 3
    assert Contact.objects.count() == n and AuditEvent.objects.count() == a
    assert not RetainedAggregate.objects.exists()


def test_it_purges_whole_months_only(program, record_contact):
    record_contact(program.site_a, "MAJO1985M", when=dt.date(2016, 6, 2))
    record_contact(program.site_a, "MAJO1985M", when=dt.date(2016, 5, 31))
    retention.do_purge("test", years=10, today=TODAY)
    assert list(Contact.objects.values_list("date", flat=True)) == [dt.date(2016, 6, 2)]


def test_it_erases_one_client_and_keeps_anonymous_counts(program, record_contact, stocked):
    old1, _old2, _old3, recent = _old_and_new(program, record_contact)
    other = recent.client
    target = old1.client
    before = StockLevel.objects.get(site=program.site_a, commodity=stocked).quantity
    deleted = retention.do_forget_client(program.admin, target)
    assert not Client.objects.filter(pk=target.pk).exists()
    for model in (Contact, Referral, OverdoseEvent, OSTEpisode):
        assert not model.objects.filter(client_id=target.pk).exists()
    assert deleted["services.Contact"] == 2
    assert Contact.objects.filter(client=other).count() == 2
    counts = {a.measure: a.value for a in RetainedAggregate.objects.filter(reason="forgotten", month=dt.date(2014, 3, 1))}
    assert counts["contacts"] == 2 and counts["clients"] == 1 and counts["syringes_given"] == 11
    assert StockLevel.objects.get(site=program.site_a, commodity=stocked).quantity == before
    _stock_exact()
    ev = AuditEvent.objects.latest("seq")
    assert ev.action == "client.forget" and ev.object_id == str(target.pk) and ev.actor_name == "admin"
    assert target.uic_hash not in str(ev.detail)


def test_it_erases_records_merged_into_the_client(program, record_contact):
    from salus.clients.actions import do_merge_clients

    keep = record_contact(program.site_a, "MAJO1985M").client
    typo = record_contact(program.site_a, "MAJO1986M").client
    do_merge_clients("test", keep, typo)
    retention.do_forget_client(program.admin, keep)
    assert not Client.objects.filter(pk__in=[keep.pk, typo.pk]).exists()


def test_it_lets_only_an_administrator_erase(program, record_contact):
    client = record_contact(program.site_a).client
    for user in (program.manager, program.coordinator_a):
        with pytest.raises(retention.ForgetError):
            retention.do_forget_client(user, client)
    assert Client.objects.filter(pk=client.pk).exists()


@pytest.mark.parametrize("how", ["forget", "purge"])
def test_erasing_empties_the_web_apps_kept_counts(program, record_contact, django_capture_on_commit_callbacks, how):
    """The pages' kept answers (salus.core.kept) may count the erased records: they go once
    the records have gone, not 10 minutes later."""
    from django.core.cache import cache

    from salus.core.kept import kept

    old1, *_rest = _old_and_new(program, record_contact)
    assert kept("salus-test-page", 600, lambda: "counted with the client") == "counted with the client"
    with django_capture_on_commit_callbacks(execute=True):
        if how == "forget":
            retention.do_forget_client(program.admin, old1.client)
        else:
            retention.do_purge("test", years=10, today=TODAY)
    assert cache.get("salus-test-page") is None
    assert kept("salus-test-page", 600, lambda: "counted again") == "counted again"
    cache.clear()
