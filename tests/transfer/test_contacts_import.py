"""Importing contacts: checks with exact messages, all or nothing, idempotency, stock, links."""

from __future__ import annotations

import datetime as dt

import pytest

from salus.clients import uic
from salus.clients.models import Client, ClientSite, UICNeighbourKey
from salus.core.models import AuditEvent
from salus.services.models import Contact, Referral
from salus.stock.models import StockLevel, StockMovement
from salus.transfer.importing import run_import

from .helpers import contact, contacts_file


def levels(site):
    return dict(StockLevel.objects.filter(site=site).values_list("commodity_id", "quantity"))


def snapshot():
    return (
        Contact.objects.count(), Client.objects.count(), Referral.objects.count(),
        StockMovement.objects.count(), sorted(StockLevel.objects.values_list("site_id", "commodity_id", "quantity")),
        sorted(ClientSite.objects.values_list("client_id", "site_id", "first_seen", "last_seen")),
    )


def test_it_imports_a_good_file(program):
    data = contacts_file(
        contact(),
        contact(date="2025-03-01", syringes_given="", syringes_returned="", condoms_given="", naloxone_kits_given="",
                education="", hiv_test_result="", hcv_test_result="", referral_to=""),
        contact(site="SB1", uic="AB CD 1990 F", sex="F", birth_year="", injects="no", referral_to="ost"),
    )
    result = run_import("contacts", data, "cli")
    assert result.ok, result.problems
    assert result.counts["contacts_created"] == 3
    assert result.counts["clients_registered"] == 2
    client = Client.objects.get(uic_hash=uic.hash_raw("MAJO1985M").uic_hash)
    assert (client.sex, client.birth_year, client.injects) == ("M", 1985, True)
    assert client.first_contact_date == dt.date(2025, 3, 1)
    assert client.registered_site == program.site_a
    assert UICNeighbourKey.objects.filter(client=client).count() == 4
    first = Contact.objects.get(client=client, date=dt.date(2025, 3, 4))
    assert (first.syringes_given, first.syringes_returned, first.condoms_given, first.naloxone_kits_given) == (20, 15, 5, 1)
    assert first.education and first.hiv_tested and first.hiv_result_given and first.hcv_tested
    assert (first.hiv_result, first.hcv_result) == ("negative", "positive")
    assert first.source == "import" and first.site == program.site_a
    blank = Contact.objects.get(client=client, date=dt.date(2025, 3, 1))
    assert (blank.syringes_given, blank.education, blank.hiv_tested) == (0, False, False)
    other = Client.objects.get(uic_hash=uic.hash_raw("ABCD1990F").uic_hash)
    assert (other.sex, other.birth_year, other.injects) == ("F", 1990, False)
    assert Contact.objects.get(client=other).setting == "outreach"  # site B is an outreach team
    link = ClientSite.objects.get(client=client, site=program.site_a)
    assert (link.first_seen, link.last_seen) == (dt.date(2025, 3, 1), dt.date(2025, 3, 4))
    assert sorted(Referral.objects.values_list("service", "status")) == [("hcv_care", "made"), ("ost", "made")]


def test_it_takes_stock_exactly_as_a_recorded_contact_does(program, record_contact):
    run_import("contacts", contacts_file(contact()), "cli")
    record_contact(
        program.site_b, raw_uic="ZZYY1970M", syringes_given=20, syringes_returned=15, condoms_given=5,
        naloxone_kits_given=1, education=True, hiv_test_result="negative", hcv_test_result="positive",
    )
    assert levels(program.site_a) == levels(program.site_b)
    assert levels(program.site_a) == {"syringe": -20, "condom": -5, "naloxone_kit": -1, "hiv_test_kit": -1, "hcv_test_kit": -1}
    moved = StockMovement.objects.filter(site=program.site_a, kind="distribution")
    assert sorted(moved.values_list("commodity_id", "quantity", "occurred_on")) == sorted(
        (c, q, dt.date(2025, 3, 4)) for c, q in levels(program.site_a).items()
    )


def test_it_aggregates_stock_per_site_commodity_and_day(program):
    rows = [contact(uic=f"AAAA19{n:02d}M", birth_year=f"19{n:02d}") for n in range(50, 60)]
    rows += [contact(date="2025-03-05", uic="BBBB1980M", birth_year="1980")]
    run_import("contacts", contacts_file(*rows), "cli")
    syringes = StockMovement.objects.filter(site=program.site_a, commodity_id="syringe").order_by("occurred_on")
    assert list(syringes.values_list("occurred_on", "quantity")) == [(dt.date(2025, 3, 4), -200), (dt.date(2025, 3, 5), -20)]
    assert levels(program.site_a)["syringe"] == -220


def test_it_imports_the_same_file_twice_without_doubling(program):
    data = contacts_file(contact(), contact(), contact(date="2025-03-05"), contact(site="SB1"))
    first = run_import("contacts", data, "cli")
    assert first.counts["contacts_created"] == 4  # the two identical rows are two contacts
    before = snapshot()
    again = run_import("contacts", data, "cli")
    assert again.ok
    assert again.counts["contacts_created"] == 0 and again.counts["contacts_skipped"] == 4
    assert snapshot() == before


def test_a_third_identical_row_in_a_longer_file_is_new(program):
    run_import("contacts", contacts_file(contact(), contact()), "cli")
    result = run_import("contacts", contacts_file(contact(), contact(), contact()), "cli")
    assert (result.counts["contacts_created"], result.counts["contacts_skipped"]) == (1, 2)
    assert Contact.objects.count() == 3


def test_one_audit_row_per_import(program):
    before = AuditEvent.objects.count()
    rows = [contact(uic=f"AAAA19{n:02d}M", birth_year=f"19{n:02d}") for n in range(50, 70)]
    result = run_import("contacts", contacts_file(*rows), "cli")
    events = list(AuditEvent.objects.filter(seq__gt=0).order_by("-seq")[: AuditEvent.objects.count() - before])
    assert [e.action for e in events] == ["import.contacts"]
    assert events[0].detail["rows"] == 20 and events[0].detail["contacts_created"] == 20
    assert events[0].detail["sha256"] == events[0].object_id
    assert result.counts["clients_registered"] == 20


def test_a_later_row_updates_the_client(program):
    run_import("contacts", contacts_file(contact(injects="yes")), "cli")
    run_import("contacts", contacts_file(contact(date="2025-04-01", injects="no")), "cli")
    client = Client.objects.get()
    assert client.injects is False
    assert client.first_contact_date == dt.date(2025, 3, 4)
    run_import("contacts", contacts_file(contact(date="2025-01-01", injects="")), "cli")
    client.refresh_from_db()
    assert client.injects is False  # blank keeps what is known
    assert client.first_contact_date == dt.date(2025, 1, 1)
    assert ClientSite.objects.get(client=client).first_seen == dt.date(2025, 1, 1)


def test_contacts_of_a_merged_client_go_to_the_record_kept(program, record_contact):
    from salus.clients.actions import do_merge_clients

    kept = record_contact(program.site_a, raw_uic="KEEP1980M").client
    typo = record_contact(program.site_a, raw_uic="MAJO1985M").client
    do_merge_clients("test", kept, typo)
    run_import("contacts", contacts_file(contact()), "cli")
    assert Contact.objects.filter(client=kept).count() == 3


BAD_ROWS = [
    ({"date": "04/03/2025"}, "line 2, column date: 04/03/2025 is not a date written YYYY-MM-DD"),
    ({"date": "2025-02-30"}, "line 2, column date: 2025-02-30 is not a date written YYYY-MM-DD"),
    ({"date": ""}, "line 2, column date: a date is needed (YYYY-MM-DD)"),
    ({"date": "2999-01-01"}, "line 2, column date: 2999-01-01 is in the future"),
    ({"date": "1970-01-01"}, "line 2, column date: 1970-01-01 is before 1980"),
    ({"site": "NOPE"}, "line 2, column site: unknown site NOPE"),
    ({"uic": "MAJO85M"}, "line 2, column uic: The code must have 9 characters; this one has 7."),
    ({"uic": ""}, "line 2, column uic: the UIC cannot be blank"),
    ({"uic": "M1JO1985M", "sex": "", "birth_year": ""}, "line 2, column uic: First two letters of mother's first name must be letters."),
    ({"sex": "Q"}, "line 2, column sex: Q is not one of F, M, T or X"),
    ({"sex": "F"}, "line 2, column sex: F does not match the sex code in the UIC"),
    ({"birth_year": "85"}, "line 2, column birth_year: 85 is not a year of birth (four digits)"),
    ({"birth_year": "1986"}, "line 2, column birth_year: 1986 does not match the year of birth in the UIC"),
    ({"injects": "maybe"}, "line 2, column injects: maybe is not yes or no"),
    ({"syringes_given": "-5"}, "line 2, column syringes_given: -5 is not a whole number, zero or more"),
    ({"syringes_returned": "2.5"}, "line 2, column syringes_returned: 2.5 is not a whole number, zero or more"),
    ({"condoms_given": "=1+2"}, "line 2, column condoms_given: =1+2 is not a whole number, zero or more"),
    ({"naloxone_kits_given": "100001"}, "line 2, column naloxone_kits_given: 100001 is too large for one contact"),
    ({"education": "y"}, "line 2, column education: y is not yes or no"),
    ({"hiv_test_result": "pos"}, "line 2, column hiv_test_result: pos is not one of: negative, positive, indeterminate, not_given"),
    ({"hcv_test_result": "reactive"}, "line 2, column hcv_test_result: reactive is not one of: negative, positive, indeterminate, not_given"),
    ({"referral_to": "rehab"}, "line 2, column referral_to: rehab is not a service code"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ROWS, ids=[m.split(": ")[0][8:] + "-" + str(i) for i, (_c, m) in enumerate(BAD_ROWS)])
def test_it_names_each_bad_cell(program, change, message):
    result = run_import("contacts", contacts_file(contact(**change)), "cli")
    assert not result.ok
    assert [str(p) for p in result.problems] == [message]
    assert Contact.objects.count() == 0 and Client.objects.count() == 0


def test_it_lists_every_problem_in_file_order_and_imports_nothing(program):
    data = contacts_file(
        contact(), contact(site="NOPE", syringes_given="-1"), contact(), contact(date="tomorrow"), contact(),
    )
    before = snapshot()
    result = run_import("contacts", data, "cli")
    assert not result.ok
    assert [str(p) for p in result.problems] == [
        "line 3, column site: unknown site NOPE",
        "line 3, column syringes_given: -1 is not a whole number, zero or more",
        "line 5, column date: tomorrow is not a date written YYYY-MM-DD",
    ]
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action="import.contacts").exists()


def test_a_user_imports_only_at_their_sites(program):
    result = run_import("contacts", contacts_file(contact(), contact(site="SB1")), program.coordinator_a)
    assert [str(p) for p in result.problems] == ["line 3, column site: SB1 is not one of your sites"]
    result = run_import("contacts", contacts_file(contact()), program.coordinator_a)
    assert result.ok
    assert Contact.objects.get().staff == program.coordinator_a


def test_dry_run_writes_nothing(program):
    result = run_import("contacts", contacts_file(contact()), "cli", dry_run=True)
    assert result.ok and result.counts == {"rows": 1, "written": 0}
    assert Contact.objects.count() == 0


def test_a_failure_while_writing_leaves_nothing_behind(program, monkeypatch):
    from salus.transfer.importers import contacts as module

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "apply_to_level", broken)  # fails after contacts were inserted
    before = snapshot()
    with pytest.raises(RuntimeError):
        run_import("contacts", contacts_file(contact(), contact(site="SB1")), "cli")
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action="import.contacts").exists()
