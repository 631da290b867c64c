"""The plain-SQL look-ups of the write path give what the ORM gives (salus.core.plainsql)."""

import datetime as dt

import pytest
from django.utils import timezone

from salus.clients import uic
from salus.clients.actions import find_by_hashes, link_client_to_site
from salus.clients.models import Client, ClientSite
from salus.core import access, plainsql
from salus.core.actions import do_create_api_token, user_for_token
from salus.core.models import ApiToken, Site, User


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize("model, field", [(Site, "code"), (User, "username")])
def test_one_by_gives_the_instance_the_orm_gives(program, model, field):
    expected = model.objects.get(**{field: getattr(program.site_a if model is Site else program.worker_a, field)})
    found = plainsql.one_by(model, field, getattr(expected, field))
    assert type(found) is model and found.pk == expected.pk
    assert _fields(found) == _fields(expected)
    assert not found._state.adding and found._state.db == "default"


def test_one_by_converts_a_clients_fields_as_the_orm_does(program, record_contact):
    contact = record_contact(program.site_a)
    Client.objects.filter(pk=contact.client_id).update(substances=["heroin", "الكبتاغون"])
    stored = Client.objects.get(pk=contact.client_id)
    found = find_by_hashes(uic.hash_raw("MAJO1985M"))
    assert _fields(found) == _fields(stored)
    assert isinstance(found.first_contact_date, dt.date) and timezone.is_aware(found.registered_at)
    assert found.injects is True and found.substances == ["heroin", "الكبتاغون"]


def test_one_by_gives_none_for_no_row(program):
    assert plainsql.one_by(Site, "code", "NOPE") is None
    assert find_by_hashes(uic.hash_raw("NOJO1999F")) is None


def test_find_by_hashes_follows_a_merge(program, record_contact):
    kept = Client.objects.get(pk=record_contact(program.site_a, "MAJO1985M").client_id)
    gone = Client.objects.get(pk=record_contact(program.site_a, "ZAJO1985M").client_id)
    Client.objects.filter(pk=gone.pk).update(merged_into=kept)
    assert find_by_hashes(uic.hash_raw("ZAJO1985M")).pk == kept.pk


def test_the_users_site_ids_are_uuids_as_the_orm_gives_them(program):
    assert access.site_ids(program.worker_a) == {program.site_a.pk}
    user = User.objects.get(pk=program.coordinator_a.pk)
    user.sites.add(program.site_b)
    assert access.site_ids(user) == set(user.sites.values_list("id", flat=True)) == {program.site_a.pk,
                                                                                       program.site_b.pk}
    assert access.site_ids(program.manager) is None


def test_a_token_gives_its_user_as_the_orm_gives_it(program):
    _row, token = do_create_api_token("test", program.worker_a, "phone")
    user = user_for_token(token)
    assert _fields(user) == _fields(User.objects.get(pk=program.worker_a.pk))
    assert not hasattr(user, "salus_token_id")
    assert user_for_token(token + "x") is None


def test_a_tokens_last_use_is_written_at_most_once_a_minute(program):
    row, token = do_create_api_token("test", program.worker_a, "phone")
    user_for_token(token)
    first = ApiToken.objects.get(pk=row.pk).last_used_at
    assert first is not None
    user_for_token(token)
    assert ApiToken.objects.get(pk=row.pk).last_used_at == first
    # A use more than a minute after the last one is written.
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=first - dt.timedelta(seconds=61))
    user_for_token(token)
    assert ApiToken.objects.get(pk=row.pk).last_used_at > first - dt.timedelta(seconds=1)
    # ... and one less than a minute after it is not.
    recent = timezone.now() - dt.timedelta(seconds=30)
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=recent)
    user_for_token(token)
    assert ApiToken.objects.get(pk=row.pk).last_used_at == recent


def test_linking_a_client_widens_first_and_last_seen_and_nothing_else(program, record_contact):
    client = Client.objects.get(pk=record_contact(program.site_a, when=dt.date(2025, 3, 10)).client_id)
    link = ClientSite.objects.get(client=client, site=program.site_a)
    assert (link.first_seen, link.last_seen) == (dt.date(2025, 3, 10), dt.date(2025, 3, 10))
    for day, expected in [
        (dt.date(2025, 3, 12), (dt.date(2025, 3, 10), dt.date(2025, 3, 12))),
        (dt.date(2025, 3, 11), (dt.date(2025, 3, 10), dt.date(2025, 3, 12))),
        (dt.date(2025, 3, 1), (dt.date(2025, 3, 1), dt.date(2025, 3, 12))),
    ]:
        link_client_to_site(client, program.site_a, day)
        link = ClientSite.objects.get(client=client, site=program.site_a)
        assert (link.first_seen, link.last_seen) == expected
    link_client_to_site(client, program.site_b, dt.date(2025, 4, 2))
    assert sorted(ClientSite.objects.filter(client=client).values_list("site__code", "first_seen", "last_seen")) == [
        ("NA1", dt.date(2025, 3, 1), dt.date(2025, 3, 12)), ("SB1", dt.date(2025, 4, 2), dt.date(2025, 4, 2))]


def _inserted_models():
    from salus.clients.models import UICNeighbourKey
    from salus.core.models import AuditEvent
    from salus.services.models import Contact
    from salus.stock.models import StockMovement

    return [Contact, Client, UICNeighbourKey, StockMovement, AuditEvent]


@pytest.mark.parametrize("model", _inserted_models(), ids=lambda m: m.__name__)
def test_models_inserted_in_plain_sql_have_no_save_method_or_signal_to_miss(model):
    from django.db.models import Model
    from django.db.models.signals import post_save, pre_save

    assert model.save is Model.save
    assert not pre_save.has_listeners(model) and not post_save.has_listeners(model)


def test_an_insert_stores_what_save_stores_encrypted_fields_included(program, record_contact):
    from salus.core import crypto
    from salus.services.models import Contact

    client = Client.objects.get(pk=record_contact(program.site_a).client_id)
    fields = dict(client=client, site=program.site_a, occurred_at=timezone.now(), date=dt.date(2025, 3, 10),
                  syringes_given=7, hiv_tested=True, hiv_result_given=True, hiv_result="positive",
                  notes="Ищет работу; يبحث عن عمل", content_hash="x" * 64)
    by_save, by_insert = Contact(**fields), Contact(**fields)
    by_save.save(force_insert=True)
    plainsql.insert([by_insert])
    assert not by_insert._state.adding
    stored_save, stored_insert = Contact.objects.get(pk=by_save.pk), Contact.objects.get(pk=by_insert.pk)
    differ = {"id", "created_at"}
    assert ({k: v for k, v in _fields(stored_save).items() if k not in differ}
            == {k: v for k, v in _fields(stored_insert).items() if k not in differ})
    assert stored_insert.hiv_result == "positive" and stored_insert.created_at is not None
    # Stored encrypted, as save() stores it.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {plainsql.column(Contact, 'hiv_result')} FROM {plainsql.table(Contact)} WHERE id = %s",
            [plainsql.db_value(Contact, "id", by_insert.pk)],
        )
        (token,) = cursor.fetchone()
    assert token.startswith(crypto.PREFIX) and "positive" not in token


def test_inserts_are_cut_into_statements_the_database_takes(program, monkeypatch):
    from django.db import connection

    from salus.core.models import AuditEvent

    events = [AuditEvent(at=timezone.now(), action="test.many", object_id=str(i), prev_hash="0" * 64,
                         hash=f"{i:064x}", detail={"n": i}) for i in range(2500)]
    batches = plainsql.insert_batches(events)
    fields = len([f for f in AuditEvent._meta.concrete_fields if not f.primary_key])
    assert sum(map(len, batches)) == 2500 and all(len(b) * fields <= 65535 for b in batches)
    if connection.vendor == "sqlite":
        assert all(len(b) * fields <= connection.features.max_query_params for b in batches)
    plainsql.insert(events)
    assert AuditEvent.objects.filter(action="test.many").count() == 2500
    assert AuditEvent.objects.get(action="test.many", object_id="2499").detail == {"n": 2499}
