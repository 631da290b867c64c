"""Contacts, one row per contact, with the services given in it.

Columns: ``date,site,uic,sex,birth_year,injects,syringes_given,syringes_returned,condoms_given,
naloxone_kits_given,education,hiv_test_result,hcv_test_result,referral_to`` (docs/import.md).

The write path is built for speed (benchmarks/import_contacts.py measures it): every lookup is loaded
once, each distinct UIC is hashed once, rows are inserted in batches with ``executemany``, and
stock is taken out per site, commodity and day rather than per contact. It is also the path the
synthetic demo uses (:func:`write_contacts`).

Re-importing a file adds nothing: each contact's id is a UUID5 of the client's UIC hash, the
site, the date, the row's content and how many identical rows came before it in the file; ids
already present are skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from salus.clients import uic as uicmod
from salus.clients.models import Client, ClientSite, Sex, UICNeighbourKey
from salus.core.models import Site
from salus.services.actions import program_tz
from salus.services.models import Contact, Referral, ReferralService, TestResult
from salus.stock.actions import TEST_COMMODITIES, apply_to_level
from salus.stock.models import Commodity, StockMovement
from salus.transfer import cells, uichash
from salus.transfer.bulk import big_write, db_uuid, insert_rows, uuid5_hex
from salus.transfer.csvfile import ProblemList, Table, iter_chunks
from salus.transfer.importing import ImportContext, progress_bar

COLUMNS = (
    "date", "site", "uic", "sex", "birth_year", "injects", "syringes_given", "syringes_returned",
    "condoms_given", "naloxone_kits_given", "education", "hiv_test_result", "hcv_test_result",
    "referral_to",
)
HELP = "Contacts and the services given in them, one row per contact"

# Fixed namespace for contact ids made from file content (never change it: re-imports rely on it).
CONTACT_NAMESPACE = uuid.UUID("6f1c2a52-3f0e-5b57-9a43-6a4f1e0c9d21")

# The time of day given to a contact known only by its date (program time zone).
CONTACT_TIME = dt.time(12, 0)

# Which contact setting a site's kind implies.
SETTING_FOR_KIND = {
    Site.Kind.OUTREACH: Contact.Setting.OUTREACH,
    Site.Kind.MOBILE: Contact.Setting.MOBILE,
    Site.Kind.PRISON: Contact.Setting.PRISON,
}

# Chunk size for ``IN (...)`` look-ups: below SQLite's 999-parameter limit.
LOOKUP_CHUNK = 900


@dataclass(slots=True)
class ContactRow:
    """One checked contact. Counts are whole numbers; test results "" or a TestResult value."""

    line: int
    date: dt.date
    site: Site
    hashes: uicmod.UICHashes
    sex: str
    birth_year: int | None
    injects: bool | None
    syringes_given: int
    syringes_returned: int
    condoms_given: int
    naloxone_kits_given: int
    education: bool
    hiv_test_result: str
    hcv_test_result: str
    referral_to: str

    def content_key(self) -> str:
        """Everything the row says, canonical: the base of its contact id."""
        return "\x1f".join((
            self.hashes.uic_hash, self.site.code, self.date.isoformat(), self.sex, str(self.birth_year or ""),
            "" if self.injects is None else str(int(self.injects)), str(self.syringes_given),
            str(self.syringes_returned), str(self.condoms_given), str(self.naloxone_kits_given),
            str(int(self.education)), self.hiv_test_result, self.hcv_test_result, self.referral_to,
        ))


def program_today() -> dt.date:
    return timezone.localtime(timezone.now(), program_tz()).date()


def parse(table: Table, ctx: ImportContext, problems: ProblemList) -> list[ContactRow]:
    """Check every row; return the rows (meaningful only when no problem was added)."""
    sites = {s.code: s for s in Site.objects.all()}
    allowed = ctx.site_ids
    today = program_today()
    fast_hash = uichash.hasher()
    # Rows repeat the same dates, people and service combinations: each distinct text is
    # checked once. Each cache maps cell text to its value or to the problems it has.
    dates: dict[str, object] = {}
    people: dict[tuple, tuple] = {}
    services: dict[tuple, tuple] = {}
    out: list[ContactRow] = []
    add = problems.add

    for line, v in progress_bar(table.rows, ctx, table.lines, _("checking")):
        ok = True
        d = dates.get(v[0])
        if d is None:
            try:
                d = cells.date(v[0], today)
            except cells.CellError as exc:
                d = exc
            dates[v[0]] = d
        if isinstance(d, cells.CellError):
            add(line, "date", str(d))
            ok = False
        site = sites.get(v[1].strip())
        if site is None:
            add(line, "site", _("unknown site %(code)s") % {"code": v[1].strip() or '""'})
            ok = False
        elif allowed is not None and site.id not in allowed:
            add(line, "site", _("%(code)s is not one of your sites") % {"code": site.code})
            ok = False
        key = (v[2], v[3], v[4])
        person = people.get(key)
        if person is None:
            person = people[key] = _person(v[2], v[3], v[4], fast_hash, today)
        if person.__class__ is list:  # problems, not values
            for column, message in person:
                add(line, column, message)
            ok = False
        key = tuple(v[5:])
        given = services.get(key)
        if given is None:
            given = _services(key)
            if len(services) < 200_000:
                services[key] = given
        if given.__class__ is list:  # problems, not values
            for column, message in given:
                add(line, column, message)
            ok = False
        if ok:
            hashes, sex, birth_year = person
            injects, sg, sr, cg, nk, education, hiv, hcv, ref = given
            out.append(ContactRow(line, d, site, hashes, sex, birth_year, injects, sg, sr, cg, nk, education,
                                  hiv, hcv, ref))
    return out


SEX_VALUES = tuple(Sex.values)
TEST_VALUES = ("", *TestResult.values)
REFERRAL_VALUES = ("", *ReferralService.values)


def _person(raw_uic: str, sex_text: str, year_text: str, fast_hash, today: dt.date) -> tuple:
    """(hashes, sex, birth year) for the uic, sex and birth_year cells, or a list of problems."""
    found = []
    hashes = None
    try:
        if not raw_uic.strip():
            raise cells.CellError(_("the UIC cannot be blank"))
        hashes = fast_hash(raw_uic)
    except (cells.CellError, uicmod.InvalidUIC) as exc:
        found.append(("uic", str(exc)))
    sex = sex_text.strip().upper()
    if sex and sex not in SEX_VALUES:
        found.append(("sex", _("%(value)s is not one of F, M, T or X") % {"value": sex_text.strip()}))
    elif sex and hashes is not None and hashes.sex and sex != hashes.sex:
        found.append(("sex", _("%(value)s does not match the sex code in the UIC") % {"value": sex}))
    year_s = year_text.strip()
    birth_year = None
    if year_s:
        if not (year_s.isascii() and year_s.isdigit() and len(year_s) == 4) or not 1900 <= int(year_s) <= today.year:
            found.append(("birth_year", _("%(value)s is not a year of birth (four digits)") % {"value": year_s}))
        else:
            birth_year = int(year_s)
            if hashes is not None and hashes.birth_year and birth_year != hashes.birth_year:
                found.append(("birth_year", _("%(value)s does not match the year of birth in the UIC")
                              % {"value": year_s}))
    if found:
        return found
    return hashes, sex or hashes.sex or Sex.NOT_RECORDED, birth_year or hashes.birth_year


def _services(v: tuple) -> tuple:
    """The values of the cells from ``injects`` to ``referral_to`` (a tuple), or a list of
    (column, message) problems."""
    found = []
    values: list = []
    for i, name in enumerate(COLUMNS[5:]):
        text = v[i]
        try:
            if name == "injects":
                values.append(cells.yes_no(text, blank=None))
            elif name == "education":
                values.append(cells.yes_no(text, blank=False))
            elif name in ("hiv_test_result", "hcv_test_result"):
                r = text.strip()
                if r not in TEST_VALUES:
                    raise cells.CellError(_("%(value)s is not one of: %(values)s")
                                          % {"value": r, "values": ", ".join(TEST_VALUES[1:])})
                values.append(r)
            elif name == "referral_to":
                r = text.strip()
                if r not in REFERRAL_VALUES:
                    raise cells.CellError(_("%(value)s is not a service code") % {"value": r})
                values.append(r)
            else:
                values.append(cells.count(text))
        except cells.CellError as exc:
            found.append((name, str(exc)))
    if found:
        return found
    return tuple(values)


def apply(ctx: ImportContext, rows: list[ContactRow]) -> dict:
    return write_contacts(ctx.actor, rows, source=ctx.source, note=f"import {ctx.sha256[:12]}", progress=ctx)


def contact_keys(rows: list[ContactRow]) -> list[tuple[str, str]]:
    """(id as 32 hex digits, content key) of each row.

    The id is the UUID5 of the row's content key and its occurrence number: the n-th identical
    row of a file always gets the same id, so a re-import finds it.
    """
    seen: dict[str, int] = {}
    ns = CONTACT_NAMESPACE.bytes
    out = []
    for r in rows:
        key = r.content_key()
        occ = seen.get(key, 0)
        seen[key] = occ + 1
        out.append((uuid5_hex(ns, f"{key}\x1f{occ}"), key))
    return out


def _present_ids(rows: list[ContactRow]) -> set[str]:
    """Hex ids of contacts already stored on the dates and at the sites the rows cover."""
    if not rows:
        return set()
    first = min(r.date for r in rows)
    last = max(r.date for r in rows)
    site_ids = sorted({db_uuid(r.site.id) for r in rows}, key=str)
    table = connection.ops.quote_name(Contact._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    found = set()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id FROM {table} WHERE date >= %s AND date <= %s AND site_id IN ({', '.join(['%s'] * len(site_ids))})",
            [adapt(first), adapt(last), *site_ids],
        )
        for (value,) in cur.fetchall():
            found.add(value if isinstance(value, str) else value.hex)
    return found


def _existing(model, field: str, values: list, fields: tuple[str, ...]) -> list[tuple]:
    found = []
    for chunk in iter_chunks(values, LOOKUP_CHUNK):
        found.extend(model.objects.filter(**{f"{field}__in": chunk}).values_list(*fields))
    return found


def _live_clients(hashes: list[str]) -> dict[str, Client]:
    """uic_hash -> the live client for it (following merges), for the hashes already registered."""
    found: dict[str, Client] = {}
    for chunk in iter_chunks(hashes, LOOKUP_CHUNK):
        for c in Client.objects.filter(uic_hash__in=chunk):
            found[c.uic_hash] = c
    for h, c in list(found.items()):
        hops = 0
        while c.merged_into_id is not None and hops < 20:
            c = Client.objects.get(pk=c.merged_into_id)
            hops += 1
        found[h] = c
    return found


def write_contacts(actor, rows: list[ContactRow], *, source: str, note: str, progress: ImportContext | None = None) -> dict:
    """Write checked rows: clients, contacts, referrals, stock, site links. Caller's transaction.

    Rows whose contact id already exists are skipped. Returns counts (no audit row: the
    caller writes one for the whole file).
    """
    with big_write():
        return _write_contacts(actor, rows, source=source, note=note, progress=progress)


def _write_contacts(actor, rows, *, source, note, progress) -> dict:
    from salus.core.config import program_config

    keys = contact_keys(rows)
    present = _present_ids(rows)
    new = [(cid, key, r) for (cid, key), r in zip(keys, rows, strict=True) if cid not in present]
    if not new:
        return {"contacts_created": 0, "contacts_skipped": len(rows), "clients_registered": 0}
    now = timezone.now()
    staff_id = actor.pk if getattr(actor, "pk", None) else None
    as_id = uuid.UUID if connection.features.has_native_uuid_field else str

    # Clients: the live record for each UIC, registering those not seen before.
    by_hash: dict[str, list[ContactRow]] = defaultdict(list)
    for _cid, _key, r in new:
        by_hash[r.hashes.uic_hash].append(r)
    clients = _live_clients(list(by_hash))
    new_clients = []
    for h, rs in by_hash.items():
        order = sorted(rs, key=lambda r: (r.date, r.line))
        first, latest = order[0], order[-1]
        injects = next((r.injects for r in reversed(order) if r.injects is not None), None)
        client = clients.get(h)
        if client is None:
            client = Client(
                id=uuid.uuid4(), uic_hash=h, sex=latest.sex, birth_year=latest.birth_year,
                injects=bool(injects), first_contact_date=first.date, registered_site=first.site,
                registered_at=now,
            )
            clients[h] = client
            new_clients.append((client, first.hashes))
            continue
        changed = []
        for name, value in (("sex", latest.sex), ("birth_year", latest.birth_year), ("injects", injects)):
            if value is not None and value != Sex.NOT_RECORDED and getattr(client, name) != value:
                setattr(client, name, value)
                changed.append(name)
        if client.first_contact_date is None or first.date < client.first_contact_date:
            client.first_contact_date = first.date
            changed.append("first_contact_date")
        if changed:
            client.save(update_fields=changed)
    insert_rows(
        Client,
        ["id", "uic_hash", "sex", "birth_year", "injects", "substances", "first_contact_date",
         "consent_follow_up", "registered_at", "registered_site_id", "merged_into_id"],
        ((c.id, c.uic_hash, c.sex, c.birth_year, c.injects, [], c.first_contact_date, False, now,
          c.registered_site_id, None) for c, _h in new_clients),
    )
    insert_rows(UICNeighbourKey, ["client_id", "position", "key"], _neighbour_rows(new_clients))

    # Contacts, referrals, and what they took out of stock.
    tz = program_tz()
    adapt_dt = connection.ops.adapt_datetimefield_value
    adapt_d = connection.ops.adapt_datefield_value
    encrypt_hiv = Contact._meta.get_field("hiv_result").get_prep_value
    encrypt_hcv = Contact._meta.get_field("hcv_result").get_prep_value
    # Per-date and per-object values computed once, not per row.
    days: dict[dt.date, tuple] = {}
    client_db = {h: db_uuid(c.id) for h, c in clients.items()}
    site_db: dict = {}
    commodity_codes = set(Commodity.objects.values_list("code", flat=True))
    syringe = program_config().syringe_commodity
    counted = [(f, c) for f, c in (("syringes_given", syringe), ("condoms_given", "condom"),
                                   ("naloxone_kits_given", "naloxone_kit")) if c in commodity_codes]
    hiv_kit = TEST_COMMODITIES["hiv_tested"] if TEST_COMMODITIES["hiv_tested"] in commodity_codes else None
    hcv_kit = TEST_COMMODITIES["hcv_tested"] if TEST_COMMODITIES["hcv_tested"] in commodity_codes else None
    taken: dict[tuple, int] = defaultdict(int)
    links: dict[tuple, list] = {}
    referrals = []
    not_given = TestResult.NOT_GIVEN
    now_db = adapt_dt(now)
    staff_db = db_uuid(staff_id) if staff_id else None
    ns_referral = b"referral"

    def contact_tuples():
        iterable = new if progress is None else progress_bar(new, progress, len(new), _("importing"))
        for cid, key, r in iterable:
            day = r.date
            dvals = days.get(day)
            if dvals is None:
                when = timezone.make_aware(dt.datetime.combine(day, CONTACT_TIME), tz)
                dvals = days[day] = (adapt_dt(when), adapt_d(day))
            site = r.site
            svals = site_db.get(site.id)
            if svals is None:
                svals = site_db[site.id] = (db_uuid(site.id), SETTING_FOR_KIND.get(site.kind, "fixed_site"))
            client_id = client_db[r.hashes.uic_hash]
            hiv, hcv = r.hiv_test_result, r.hcv_test_result
            site_key = site.code
            for f, code in counted:
                q = getattr(r, f)
                if q:
                    taken[(site_key, code, day)] += q
            if hiv and hiv_kit:
                taken[(site_key, hiv_kit, day)] += 1
            if hcv and hcv_kit:
                taken[(site_key, hcv_kit, day)] += 1
            span = links.get((client_id, svals[0]))
            if span is None:
                links[(client_id, svals[0])] = [day, day]
            elif day < span[0]:
                span[0] = day
            elif day > span[1]:
                span[1] = day
            cid_db = as_id(cid)
            if r.referral_to:
                rid = as_id(uuid5_hex(ns_referral, cid))
                referrals.append((rid, client_id, svals[0], cid_db, r.referral_to, dvals[1]))
            yield (
                cid_db, client_id, svals[0], staff_db, dvals[0], dvals[1], svals[1],
                r.syringes_given, r.syringes_returned, 0, r.condoms_given, r.naloxone_kits_given, r.education,
                bool(hiv), bool(hiv) and hiv != not_given, encrypt_hiv(hiv) if hiv else "",
                bool(hcv), bool(hcv) and hcv != not_given, encrypt_hcv(hcv) if hcv else "",
                source, hashlib.sha256(key.encode()).hexdigest(), now_db,
            )

    sites_by_code = {r.site.code: r.site for _c, _k, r in new}
    n = insert_rows(
        Contact,
        ["id", "client_id", "site_id", "staff_id", "occurred_at", "date", "setting", "syringes_given",
         "syringes_returned", "other_equipment_given", "condoms_given", "naloxone_kits_given", "education",
         "hiv_tested", "hiv_result_given", "hiv_result", "hcv_tested", "hcv_result_given", "hcv_result",
         "source", "content_hash", "created_at"],
        contact_tuples(),
        raw=frozenset({"id", "client_id", "site_id", "staff_id", "occurred_at", "date", "hiv_result",
                       "hcv_result", "created_at"}),
    )
    insert_rows(
        Referral,
        ["id", "client_id", "site_id", "contact_id", "made_by_id", "service", "made_on", "status",
         "outcome_on", "note", "updated_at"],
        ((rid, client_id, site_id, cid, staff_db, service, day, Referral.Status.MADE, None, "", now_db)
         for rid, client_id, site_id, cid, service, day in referrals),
        raw=frozenset({"id", "client_id", "site_id", "contact_id", "made_by_id", "made_on", "updated_at"}),
    )
    insert_rows(
        StockMovement,
        ["id", "site_id", "commodity_id", "kind", "quantity", "occurred_on", "at", "contact_id",
         "recorded_by_id", "note"],
        ((uuid.uuid4(), sites_by_code[site_code].id, code, StockMovement.Kind.DISTRIBUTION, -q, day, now, None,
          staff_id, note[:200])
         for (site_code, code, day), q in sorted(taken.items())),
    )
    per_level: dict[tuple, int] = defaultdict(int)
    for (site_code, code, _day), q in taken.items():
        per_level[(site_code, code)] += q
    for (site_code, code), q in sorted(per_level.items()):
        apply_to_level(sites_by_code[site_code], code, -q)
    _write_links(links)
    return {
        "contacts_created": n,
        "contacts_skipped": len(rows) - n,
        "clients_registered": len(new_clients),
        "referrals_created": len(referrals),
    }


def _neighbour_rows(new_clients):
    for client, hashes in new_clients:
        for position, key in enumerate(hashes.neighbour_keys):
            yield (client.id, position, key)


def _write_links(links: dict[tuple, list]) -> None:
    """Create or widen the ClientSite link of each (client, site) pair to cover the new dates.

    ``links`` maps (client id, site id), both as the driver takes them, to [first, last] date.
    """
    native = connection.features.has_native_uuid_field
    client_ids = list({c for c, _s in links})
    if not native:
        client_ids = [uuid.UUID(c) for c in client_ids]
    existing = {}
    for pk, client_id, site_id, first, last in _existing(
        ClientSite, "client_id", client_ids, ("id", "client_id", "site_id", "first_seen", "last_seen")
    ):
        existing[(db_uuid(client_id), db_uuid(site_id))] = (pk, first, last)
    new_rows = []
    for key, (first, last) in links.items():
        old = existing.get(key)
        if old is None:
            new_rows.append((*key, first, last))
            continue
        pk, old_first, old_last = old
        if first < old_first or last > old_last:
            ClientSite.objects.filter(pk=pk).update(first_seen=min(first, old_first), last_seen=max(last, old_last))
    insert_rows(ClientSite, ["client_id", "site_id", "first_seen", "last_seen"], new_rows,
                raw=frozenset({"client_id", "site_id"}))


__all__ = ["COLUMNS", "HELP", "ContactRow", "apply", "parse", "write_contacts"]
