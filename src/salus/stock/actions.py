"""Stock writes. Every change is a movement plus an exact update of the running level."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from salus.core import audit, plainsql
from salus.core.models import Site
from salus.stock.models import Commodity, StockLevel, StockMovement

# Which contact field draws on which commodity. Syringes come from the program's configured
# syringe commodity (salus.core.config: syringe_commodity); the rest are fixed codes.
CONTACT_COMMODITIES: dict[str, str] = {
    "syringes_given": "",  # filled from program config at call time
    "other_equipment_given": "injecting_kit",
    "condoms_given": "condom",
    "naloxone_kits_given": "naloxone_kit",
}
# Tests use one kit each.
TEST_COMMODITIES: dict[str, str] = {"hiv_tested": "hiv_test_kit", "hcv_tested": "hcv_test_kit"}


def _site_key(site: Site):
    """The site's id as the database takes it in plain SQL."""
    return plainsql.db_value(StockLevel, "site", site.pk)


def _level_update_sql() -> str:
    """Add a quantity to one site's level of one commodity (exact under concurrent writers)."""
    site, commodity, quantity = (plainsql.column(StockLevel, f) for f in ("site", "commodity", "quantity"))
    return (f"UPDATE {plainsql.table(StockLevel)} SET {quantity} = {quantity} + %s "
            f"WHERE {site} = %s AND {commodity} = %s")


def _level_upsert_sql() -> str:
    """Add a quantity to one site's level of one commodity, creating the level if the site has
    none (exact under concurrent writers; SQLite 3.24+ and PostgreSQL take this form).
    Parameters: site key, commodity code, quantity, ``updated_at`` of a new level."""
    table = plainsql.table(StockLevel)
    site, commodity, quantity, updated = (
        plainsql.column(StockLevel, f) for f in ("site", "commodity", "quantity", "updated_at"))
    return (
        f"INSERT INTO {table} ({site}, {commodity}, {quantity}, {updated}) VALUES (%s, %s, %s, %s) "
        f"ON CONFLICT ({site}, {commodity}) DO UPDATE SET {quantity} = {table}.{quantity} + excluded.{quantity}"
    )


def _add_to_existing_level(site: Site, commodity_code: str, delta: int) -> bool:
    """Add ``delta`` to the level if the site has one for the commodity; return whether it had.

    One UPDATE of ``quantity = quantity + delta``: exact under concurrent writers. Written as
    plain SQL because every contact runs it once per item given, and compiling the same
    statement through the ORM costs several times the CPU of running it (docs/decisions/0004).
    Like ``QuerySet.update()``, it leaves ``updated_at`` alone.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _level_update_sql(),
            [delta, _site_key(site), commodity_code],
        )
        return cursor.rowcount > 0


def _levels_held(site: Site, codes: list[str]) -> set[str]:
    """Which of ``codes`` the site has a level for (plain SQL: see _add_to_existing_level)."""
    table = connection.ops.quote_name(StockLevel._meta.db_table)
    marks = ", ".join(["%s"] * len(codes))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT commodity_id FROM {table} WHERE site_id = %s AND commodity_id IN ({marks})",
            [_site_key(site), *codes],
        )
        return {row[0] for row in cursor.fetchall()}


def apply_to_level(site: Site, commodity_code: str, delta: int) -> None:
    """Add ``delta`` to the level atomically (exact under concurrent writers)."""
    if _add_to_existing_level(site, commodity_code, delta):
        return
    try:
        with transaction.atomic():
            StockLevel.objects.create(site=site, commodity_id=commodity_code, quantity=delta)
    except IntegrityError:
        StockLevel.objects.filter(site=site, commodity_id=commodity_code).update(quantity=F("quantity") + delta)


def distribute_for_contact(actor, contact) -> list[StockMovement]:
    """Take what a contact gave out of the site's stock. Called inside the contact's transaction.

    Never refuses: the level may go below zero, which the stock page flags for reconciling.
    Items of a commodity the program does not define are not tracked (no movement).
    """
    from salus.core.config import program_config

    mapping = dict(CONTACT_COMMODITIES, syringes_given=program_config().syringe_commodity)
    wanted: dict[str, int] = {}
    for field, code in mapping.items():
        qty = getattr(contact, field) or 0
        if qty and code:
            wanted[code] = wanted.get(code, 0) + qty
    for field, code in TEST_COMMODITIES.items():
        if getattr(contact, field):
            wanted[code] = wanted.get(code, 0) + 1
    if not wanted:
        return []
    site = contact.site
    # Movements first, levels last: a level row stays locked from its UPDATE until the write
    # commits, and every contact at the site updates the same rows, so the contact's other
    # statements must not run while it is held (docs/decisions/0005). A level row exists only
    # for a defined commodity (foreign key), so the commodity table is read only for what
    # this site has never held: usually not at all.
    held = _levels_held(site, list(wanted))
    never_held = [code for code in wanted if code not in held]
    if never_held:
        defined = set(Commodity.objects.filter(code__in=never_held).values_list("code", flat=True))
        for code in never_held:
            if code not in defined:
                del wanted[code]
    moves = [
        StockMovement(
            site=site, commodity_id=code, kind=StockMovement.Kind.DISTRIBUTION,
            quantity=-qty, occurred_on=contact.date, contact=contact, recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        for code, qty in sorted(wanted.items())
    ]
    plainsql.insert(moves)  # values prepared as by save(), without compiling a query
    site_key = _site_key(site)
    for code in sorted(wanted):
        # Among the write's very last statements (salus.core.backends.chain), in site and code
        # order: the same lock order in every writer. A level the site has never held is
        # created there too (an upsert), not in the middle of the write: two contacts, one
        # creating a level mid-write and the other updating both levels at its end, would
        # take the two rows in opposite orders and deadlock.
        if code in held:
            sql, params = _level_update_sql(), [-wanted[code], site_key, code]
        else:
            now = plainsql.db_value(StockLevel, "updated_at", timezone.now())
            sql, params = _level_upsert_sql(), [site_key, code, -wanted[code], now]
        connection.salus_update_last(("stock_level", str(site.pk), code), sql, params)  # type: ignore[attr-defined]  # from the project's backends (salus.core.backends.chain), unknown to the stubs' wrapper type
    return moves


@transaction.atomic
def do_record_stock_movement(
    actor, *, site: Site, commodity: Commodity, kind: str, quantity: int, occurred_on: dt.date, note: str = ""
) -> StockMovement:
    """Record a receipt (positive), an adjustment (either sign) or a transfer."""
    if kind == StockMovement.Kind.DISTRIBUTION:
        raise ValueError("distributions are recorded through contacts")
    if kind in (StockMovement.Kind.RECEIPT, StockMovement.Kind.TRANSFER_IN) and quantity <= 0:
        raise ValueError("a receipt must be a positive quantity")
    if kind == StockMovement.Kind.TRANSFER_OUT and quantity > 0:
        quantity = -quantity
    move = StockMovement.objects.create(
        site=site, commodity=commodity, kind=kind, quantity=quantity, occurred_on=occurred_on,
        recorded_by=actor if getattr(actor, "pk", None) else None, note=note,
    )
    apply_to_level(site, commodity.code, quantity)
    audit.record(actor, "stock." + kind, move, site=site, detail={"commodity": commodity.code, "quantity": quantity})
    return move


def stockout_days(site: Site, commodity_code: str, start: dt.date, end: dt.date) -> int:
    """Days from ``start`` to ``end`` (inclusive) ending with zero or less of the commodity.

    The balance at the end of each day is the sum of all movements up to that day.
    """
    moves = list(
        StockMovement.objects.filter(site=site, commodity_id=commodity_code, occurred_on__lte=end)
        .order_by("occurred_on")
        .values_list("occurred_on", "quantity")
    )
    if not moves:
        return 0  # never stocked: not a tracked commodity at this site
    balance = sum(q for d, q in moves if d < start)
    by_day: dict[dt.date, int] = {}
    for d, q in moves:
        if d >= start:
            by_day[d] = by_day.get(d, 0) + q
    days = 0
    day = start
    first_move = moves[0][0]
    while day <= end:
        balance += by_day.get(day, 0)
        if day >= first_move and balance <= 0:
            days += 1
        day += dt.timedelta(days=1)
    return days
