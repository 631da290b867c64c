"""Writes to the client registry: find-or-register by UIC, update attributes, merge."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import ForeignObjectRel, Q
from django.utils.translation import gettext as _

from salus.clients import uic as uicmod
from salus.clients.models import Client, ClientSite, DuplicateDismissal, UICNeighbourKey
from salus.core import audit, plainsql
from salus.core.models import Site


@dataclass
class ClientAttributes:
    """Attributes a contact may carry; None means "not given, keep what is recorded"."""

    sex: str | None = None
    birth_year: int | None = None
    injects: bool | None = None
    substances: list[str] | None = None
    consent_follow_up: bool | None = None


def find_by_hashes(hashes: uicmod.UICHashes) -> Client | None:
    """The live client with this UIC (following merges), or None."""
    # Plain SQL (salus.core.plainsql): every contact posted looks its client up.
    client = plainsql.one_by(Client, "uic_hash", hashes.uic_hash)
    seen = 0
    while client is not None and client.merged_into_id is not None and seen < 20:
        client = client.merged_into
        seen += 1
    return client


def _apply_attributes(client: Client, attrs: ClientAttributes | None, hashes: uicmod.UICHashes | None) -> list[str]:
    changed = []
    values: dict[str, object] = {}
    if hashes is not None:
        if hashes.sex:
            values["sex"] = hashes.sex
        if hashes.birth_year:
            values["birth_year"] = hashes.birth_year
    if attrs is not None:
        for name in ("sex", "birth_year", "injects", "substances", "consent_follow_up"):
            v = getattr(attrs, name)
            if v is not None:
                values[name] = v
    for name, v in values.items():
        if getattr(client, name) != v:
            setattr(client, name, v)
            changed.append(name)
    return changed


def get_or_register_client(
    actor,
    site: Site,
    hashes: uicmod.UICHashes,
    attrs: ClientAttributes | None = None,
    seen_on: dt.date | None = None,
) -> tuple[Client, bool]:
    """Return the client with this UIC, registering them at ``site`` if new.

    Must be called inside a transaction (the caller's action). Updates attributes given in
    ``attrs`` and links the client to ``site``.
    """
    client = find_by_hashes(hashes)
    created = False
    if client is None:
        client = Client(uic_hash=hashes.uic_hash, registered_site=site, first_contact_date=seen_on)
        _apply_attributes(client, attrs, hashes)
        try:
            with transaction.atomic():
                # Plain SQL (salus.core.plainsql), values prepared as by save().
                plainsql.insert([client])
        except IntegrityError:
            # Registered a moment ago by a concurrent request: use that record.
            client = find_by_hashes(hashes)
            if client is None:
                raise
        else:
            created = True
            plainsql.insert([UICNeighbourKey(client=client, position=i, key=k)
                             for i, k in enumerate(hashes.neighbour_keys)])
            audit.record(actor, "client.register", client, site=site)
    if not created:
        changed = _apply_attributes(client, attrs, hashes)
        if changed:
            client.save(update_fields=changed)
        if seen_on:
            widen_first_contact(client, seen_on)
    if seen_on:
        link_client_to_site(client, site, seen_on)
    return client, created


def widen_first_contact(client: Client, day: dt.date) -> None:
    """Make ``day`` the client's first contact date if it is earlier than the recorded one.

    One conditional UPDATE, exact under concurrent writers: reading the client, then saving it
    with the earlier of the two dates, could put back a later date that another write had just
    replaced (two first contacts of a new client, posted at once, left the later date).
    """
    if client.first_contact_date is not None and client.first_contact_date <= day:
        return  # the date only ever moves earlier: the stored one is at most this one
    column = plainsql.column(Client, "first_contact_date")
    value = plainsql.db_value(Client, "first_contact_date", day)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {plainsql.table(Client)} SET {column} = %s "
            f"WHERE {plainsql.column(Client, 'id')} = %s AND ({column} IS NULL OR {column} > %s)",
            [value, plainsql.db_value(Client, "id", client.pk), value],
        )
    client.first_contact_date = day


def link_client_to_site(client: Client, site: Site, day: dt.date) -> None:
    """Record that ``client`` was served at ``site`` on ``day`` (widens first and last seen).

    One upsert in plain SQL (salus.core.plainsql), exact under concurrent writers: every
    contact runs it. SQLite (3.24 and later) and PostgreSQL both take this ON CONFLICT form;
    the row is written only when the day widens its range.
    """
    t = plainsql.table(ClientSite)
    first, last = (
        plainsql.column(ClientSite, "first_seen"),
        plainsql.column(ClientSite, "last_seen"),
    )
    client_col, site_col = (
        plainsql.column(ClientSite, "client"),
        plainsql.column(ClientSite, "site"),
    )
    day_value = plainsql.db_value(ClientSite, "first_seen", day)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {t} ({client_col}, {site_col}, {first}, {last}) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT ({site_col}, {client_col}) DO UPDATE SET "
            f"{first} = CASE WHEN excluded.{first} < {t}.{first} THEN excluded.{first} ELSE {t}.{first} END, "
            f"{last} = CASE WHEN excluded.{last} > {t}.{last} THEN excluded.{last} ELSE {t}.{last} END "
            f"WHERE excluded.{first} < {t}.{first} OR excluded.{last} > {t}.{last}",
            [
                plainsql.db_value(ClientSite, "client", client.pk),
                plainsql.db_value(ClientSite, "site", site.pk),
                day_value,
                day_value,
            ],
        )


@transaction.atomic
def do_register_client(actor, site: Site, raw_uic: str | None = None, parts: dict | None = None,
                       attrs: ClientAttributes | None = None, seen_on: dt.date | None = None) -> tuple[Client, bool]:
    """Find or register the client for a UIC given raw or as its parts."""
    comps = uicmod.recipe()
    canonical = uicmod.canonical(parts if parts is not None else uicmod.parts_from_raw(raw_uic or "", comps), comps)
    return get_or_register_client(actor, site, uicmod.hash_parts(canonical, comps), attrs, seen_on)


def possible_duplicates(client_ids=None, limit: int = 200) -> list[tuple[Client, Client, int]]:
    """Pairs of live clients whose UICs differ in exactly one component.

    Returns (client_a, client_b, position of the differing component). ``client_ids`` limits
    the search to pairs where at least one side is in that set (the coordinator's sites).
    Dismissed pairs are left out.
    """
    qs = UICNeighbourKey.objects.filter(client__merged_into__isnull=True)
    if client_ids is not None:
        keys = qs.filter(client_id__in=client_ids).values("key")
        qs = qs.filter(key__in=keys)
    by_key: dict[tuple[str, int], list] = {}
    for key, pos, cid in qs.values_list("key", "position", "client_id").order_by("key")[: limit * 20]:
        by_key.setdefault((key, pos), []).append(cid)
    dismissed = set(DuplicateDismissal.objects.values_list("client_a_id", "client_b_id"))
    pairs = []
    for (_key, pos), ids in by_key.items():
        ids = sorted(set(ids), key=str)
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                a, b = ids[i], ids[j]
                if (a, b) in dismissed or (b, a) in dismissed:
                    continue
                pairs.append((a, b, pos))
    pairs = pairs[:limit]
    clients = Client.objects.in_bulk({x for p in pairs for x in p[:2]})
    return [(clients[a], clients[b], pos) for a, b, pos in pairs if a in clients and b in clients]


class MergeError(ValueError):
    pass


@transaction.atomic
def do_merge_clients(actor, keep: Client, merge: Client) -> Client:
    """Move every record of ``merge`` to ``keep`` and mark ``merge`` as merged into it.

    The merged record keeps its UIC hash (so a client who gives the mistyped code again is
    found) but holds no services. Counts of unique clients fall by one, as they should.
    """
    from salus.services.models import Contact, OSTEpisode, OverdoseEvent, Referral

    if keep.pk == merge.pk:
        raise MergeError(_("A record cannot be merged into itself."))
    if merge.merged_into_id is not None or keep.merged_into_id is not None:
        raise MergeError(_("One of these records was already merged."))
    moved = {}
    for model in (Contact, Referral, OSTEpisode, OverdoseEvent):
        moved[model._meta.model_name] = model.objects.filter(client=merge).update(client=keep)
    moved.update(_move_other_records(merge, keep, handled={Contact, Referral, OSTEpisode, OverdoseEvent}))
    for link in ClientSite.objects.filter(client=merge):
        link_client_to_site(keep, link.site, link.first_seen)
        link_client_to_site(keep, link.site, link.last_seen)
    ClientSite.objects.filter(client=merge).delete()
    if merge.first_contact_date:
        widen_first_contact(keep, merge.first_contact_date)
    merge.merged_into = keep
    merge.save(update_fields=["merged_into"])
    audit.record(actor, "client.merge", keep, detail={"merged": str(merge.pk), "moved": moved})
    return keep


# Relations to Client that a merge leaves where they are: the site links are rebuilt above, and
# the merged record keeps its UIC hash and neighbour keys so that a mistyped code still finds it.
STAYS_WITH_MERGED_RECORD = {ClientSite, UICNeighbourKey}


def _move_other_records(merge: Client, keep: Client, handled: set) -> dict[str, int]:
    """Point every other record of ``merge`` (goals, prompt checks, rights reports, and any
    model added later with a ``client`` foreign key) at ``keep``.

    Found from the model relations, hidden ones included, so a new app's records cannot be
    left behind on a record nobody can open. A model whose rows may collide on a uniqueness
    rule names how to combine them in a ``move_client_records(merge, keep)`` class method.
    """
    moved: dict[str, int] = {}
    for rel in Client._meta.get_fields(include_hidden=True):
        # Reverse relations only: another model's foreign key named ``client``.
        if not (isinstance(rel, ForeignObjectRel) and rel.one_to_many and rel.field.name == "client"):
            continue
        model = rel.field.model  # the model holding the foreign key (rel.related_model)
        if model in handled or model in STAYS_WITH_MERGED_RECORD:
            continue
        name = model._meta.model_name
        assert name is not None  # set on every model class
        mover = getattr(model, "move_client_records", None)
        if mover is not None:
            moved[name] = mover(merge, keep)
        else:
            moved[name] = model._base_manager.filter(client=merge).update(client=keep)
    return moved


@transaction.atomic
def do_dismiss_duplicate(actor, a: Client, b: Client) -> None:
    DuplicateDismissal.objects.get_or_create(client_a=a, client_b=b)
    audit.record(actor, "client.duplicate_dismissed", a, detail={"other": str(b.pk)})


def dismissed_q(a: Client, b: Client) -> Q:
    return Q(client_a=a, client_b=b) | Q(client_a=b, client_b=a)
