"""Recording a contact: one transaction with stock, idempotent ids, validation."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from salus.clients import uic
from salus.clients.actions import ClientAttributes
from salus.core.models import AuditEvent
from salus.services.actions import ConflictError, ContactServices, do_record_contact_for_uic
from salus.services.models import Contact, Referral
from salus.stock.models import StockLevel, StockMovement


def _record(site, contact_id=None, **services):
    return do_record_contact_for_uic(
        "test", site=site, hashes=uic.hash_raw("MAJO1985M"), attrs=ClientAttributes(injects=True),
        occurred_at=timezone.make_aware(dt.datetime(2025, 3, 4, 10, 0), dt.UTC),
        services=ContactServices(**services), contact_id=contact_id,
    )


def level(site, code):
    row = StockLevel.objects.filter(site=site, commodity_id=code).first()
    return row.quantity if row else 0


def test_it_takes_what_was_given_out_of_stock(program):
    _record(program.site_a, syringes_given=20, condoms_given=5, naloxone_kits_given=1, hiv_test_result="negative")
    assert level(program.site_a, "syringe") == -20
    assert level(program.site_a, "condom") == -5
    assert level(program.site_a, "naloxone_kit") == -1
    assert level(program.site_a, "hiv_test_kit") == -1


def test_it_never_refuses_for_lack_of_recorded_stock(program):
    contact, created = _record(program.site_a, syringes_given=500)
    assert created and level(program.site_a, "syringe") == -500


def test_it_records_a_retried_contact_once(program):
    cid = uuid.uuid4()
    first, created1 = _record(program.site_a, contact_id=cid, syringes_given=10)
    again, created2 = _record(program.site_a, contact_id=cid, syringes_given=10)
    assert (created1, created2) == (True, False)
    assert first.pk == again.pk
    assert Contact.objects.count() == 1
    assert level(program.site_a, "syringe") == -10


def test_it_refuses_an_id_reused_for_a_different_contact(program):
    cid = uuid.uuid4()
    _record(program.site_a, contact_id=cid, syringes_given=10)
    with pytest.raises(ConflictError):
        _record(program.site_a, contact_id=cid, syringes_given=11)


def test_it_rolls_back_everything_if_any_part_fails(program, monkeypatch):
    import salus.services.actions as actions

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "distribute_for_contact", boom)
    with pytest.raises(RuntimeError):
        _record(program.site_a, syringes_given=10)
    assert Contact.objects.count() == 0
    assert StockMovement.objects.count() == 0


def test_it_creates_the_referrals_made_in_the_contact(program):
    contact, _ = _record(program.site_a, referrals=["ost", "hcv_care"])
    assert set(Referral.objects.filter(contact=contact).values_list("service", flat=True)) == {"ost", "hcv_care"}


def test_it_audits_the_contact(program):
    contact, _ = _record(program.site_a)
    assert AuditEvent.objects.filter(action="contact.record", object_id=str(contact.pk), site_code="NA1").exists()


def test_it_stores_the_date_in_the_program_time_zone(program, monkeypatch, tmp_path):
    from salus.core.config import reset_cache

    (tmp_path / "program.toml").write_text('timezone = "Asia/Tehran"\n')
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(tmp_path / "program.toml"))
    reset_cache()
    late = timezone.make_aware(dt.datetime(2025, 3, 4, 22, 0), dt.UTC)  # 01:30 next day in Tehran
    contact, _ = do_record_contact_for_uic(
        "test", site=program.site_a, hashes=uic.hash_raw("MAJO1985M"), attrs=None,
        occurred_at=late, services=ContactServices(),
    )
    assert contact.date == dt.date(2025, 3, 5)


@pytest.mark.parametrize(
    "field,value",
    [("syringes_given", -1), ("condoms_given", "3"), ("hiv_test_result", "maybe"), ("setting", "moon"), ("referrals", ["nowhere"])],
)
def test_it_names_the_invalid_field(field, value):
    services = ContactServices(**{field: value})
    assert field in services.validate()


def test_it_keeps_sensitive_fields_encrypted_in_the_table(program):
    from django.db import connection

    contact, _ = _record(program.site_a, hiv_test_result="positive", notes="met at the river")
    with connection.cursor() as cur:
        cur.execute("SELECT hiv_result, notes FROM services_contact WHERE id = %s", [contact.pk.hex if connection.vendor == "sqlite" else contact.pk])
        hiv, notes = cur.fetchone()
    assert "positive" not in hiv and "river" not in notes
    assert Contact.objects.get(pk=contact.pk).hiv_result == "positive"


def test_it_keeps_every_level_equal_to_its_movements(program):
    from django.db.models import Sum

    # The first contact finds no level rows (they are created), the later ones update them.
    _record(program.site_a, syringes_given=7, hiv_test_result="not_given")
    _record(program.site_a, syringes_given=3, condoms_given=2, naloxone_kits_given=1, hcv_test_result="negative")
    _record(program.site_b, condoms_given=4)
    for row in StockLevel.objects.all():
        moved = StockMovement.objects.filter(site=row.site, commodity=row.commodity).aggregate(s=Sum("quantity"))["s"]
        assert row.quantity == moved
    assert {(r.site.code, r.commodity_id): r.quantity for r in StockLevel.objects.select_related("site")} == {
        ("NA1", "syringe"): -10, ("NA1", "hiv_test_kit"): -1, ("NA1", "condom"): -2, ("NA1", "naloxone_kit"): -1,
        ("NA1", "hcv_test_kit"): -1, ("SB1", "condom"): -4,
    }


def test_it_skips_items_of_a_commodity_the_program_does_not_define(program):
    from salus.stock.models import Commodity

    Commodity.objects.filter(code="naloxone_kit").delete()
    contact, created = _record(program.site_a, syringes_given=5, naloxone_kits_given=2)
    assert created and contact.naloxone_kits_given == 2
    assert set(StockMovement.objects.values_list("commodity_id", "quantity")) == {("syringe", -5)}
    assert not StockLevel.objects.filter(commodity_id="naloxone_kit").exists()
