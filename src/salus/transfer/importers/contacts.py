"""Contacts, one row per contact, with the services given in it.

Columns: ``date,site,uic,sex,birth_year,injects,syringes_given,syringes_returned,condoms_given,
naloxone_kits_given,education,hiv_test_result,hcv_test_result,referral_to`` (docs/import.md).

The write path is built for speed (benchmarks/import_contacts.py measures it). A file of years of
contacts repeats the same dates, sites, people and service combinations over and over, so
everything is worked out once per distinct value, not once per row: each distinct date, site,
person (uic, sex and birth_year cells: the UIC is hashed once) and combination of service cells
is checked once and becomes one shared object (:class:`Day`, :class:`Place`, :class:`Person`,
:class:`Given`) that also carries its part of the contact id and of the stored row. A checked
row is then just a tuple of those objects and its line number. Rows are written in client,
then date order, which keeps SQLite's index inserts close together, in batches with
``executemany``, and with the values every row shares written into the statement once; stock
is taken out per site, commodity and day rather than per contact. It is also the path the
synthetic demo uses (:func:`write_contacts`).

Re-importing a file adds nothing: each contact's id is a UUID5 of the client's UIC hash, the
site, the date, the row's content and how many identical rows came before it in the file; ids
already present are skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from salus.clients import uic as uicmod
from salus.clients.actions import widen_first_contact
from salus.clients.models import Client, ClientSite, Sex, UICNeighbourKey
from salus.core.models import Site
from salus.services.actions import program_tz
from salus.services.models import Contact, Referral, ReferralService, TestResult
from salus.stock.actions import TEST_COMMODITIES, apply_to_level
from salus.stock.models import Commodity, StockMovement
from salus.transfer import cells, uichash
from salus.transfer.bulk import big_write, db_bool, db_uuid, insert_rows, new_uuids, uuid5_hex
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

# Which contact setting a site's kind implies (keyed by the plain value a Site's ``kind`` holds,
# which the choices members equal).
SETTING_FOR_KIND: dict[str, Contact.Setting] = {
    Site.Kind.OUTREACH: Contact.Setting.OUTREACH,
    Site.Kind.MOBILE: Contact.Setting.MOBILE,
    Site.Kind.PRISON: Contact.Setting.PRISON,
}

# Chunk size for ``IN (...)`` look-ups: below SQLite's 999-parameter limit.
LOOKUP_CHUNK = 900

# At most this many distinct service combinations are remembered while checking a file (a file
# of all-different rows must not grow the cache without bound); others are checked row by row.
SERVICES_CACHE = 200_000

SEX_VALUES = tuple(Sex.values)
TEST_VALUES = ("", *TestResult.values)
REFERRAL_VALUES = ("", *ReferralService.values)


@dataclass(slots=True)
class ContactRow:
    """One checked contact. Counts are whole numbers; test results "" or a TestResult value.

    The form in which other code (the synthetic demo) hands contacts to :func:`write_contacts`.
    """

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


# The shared parts of checked rows. Each is made once per distinct value in a file; the writer
# fills ``db`` (what it stores for the value) the first time it meets one.


class Day:
    """A contact date (``ordinal``: the date's, a plain integer to sort by)."""

    __slots__ = ("date", "iso", "ordinal", "db")

    date: dt.date
    iso: str
    ordinal: int
    db: tuple[object, object] | None  # (occurred_at, date) as the driver takes them

    def __init__(self, date: dt.date):
        self.date = date
        self.iso = date.isoformat()
        self.ordinal = date.toordinal()
        self.db = None


class Place:
    """A site contacts happened at."""

    __slots__ = ("site", "code", "db")

    site: Site
    code: str
    db: tuple[uuid.UUID | str, str] | None  # (site id as the driver takes it, contact setting)

    def __init__(self, site: Site):
        self.site = site
        self.code = site.code
        self.db = None


class Person:
    """A client as a row names them: UIC hashes, and sex and birth year (from the UIC if blank).

    ``tail`` is their part of the content key; ``client`` the id of their client record as
    the database driver takes it, and ``order`` its rank among the file's client ids, both
    set by the writer.
    """

    __slots__ = ("hashes", "uic_hash", "sex", "birth_year", "tail", "client", "order")

    hashes: uichash.Hashes
    uic_hash: str
    sex: str
    birth_year: int | None
    tail: str
    client: uuid.UUID | str | None
    order: int

    def __init__(self, hashes: uichash.Hashes, sex: str, birth_year: int | None):
        self.hashes = hashes
        self.uic_hash = hashes.uic_hash
        self.sex = sex
        self.birth_year = birth_year
        self.tail = f"{sex}\x1f{birth_year or ''}"
        self.client = None
        self.order = 0


class Given:
    """The cells from ``injects`` to ``referral_to``: what a contact recorded and gave.

    ``tail`` is their part of the content key (counts canonical: ``07`` is ``7``).
    """

    __slots__ = ("injects", "syringes_given", "syringes_returned", "condoms_given", "naloxone_kits_given",
                 "education", "hiv", "hcv", "referral", "tail", "db", "takes")

    injects: bool | None
    syringes_given: int
    syringes_returned: int
    condoms_given: int
    naloxone_kits_given: int
    education: bool
    hiv: str
    hcv: str
    referral: str
    tail: str
    db: tuple[object, ...] | None
    takes: tuple[tuple[str, int], ...]  # (commodity code, quantity) taken out of stock

    def __init__(self, injects: bool | None, syringes_given: int, syringes_returned: int, condoms_given: int,
                 naloxone_kits_given: int, education: bool, hiv: str, hcv: str, referral: str):
        self.injects = injects
        self.syringes_given = syringes_given
        self.syringes_returned = syringes_returned
        self.condoms_given = condoms_given
        self.naloxone_kits_given = naloxone_kits_given
        self.education = education
        self.hiv = hiv
        self.hcv = hcv
        self.referral = referral
        self.tail = "\x1f".join((
            "" if injects is None else str(int(injects)), str(syringes_given), str(syringes_returned),
            str(condoms_given), str(naloxone_kits_given), str(int(education)), hiv, hcv, referral,
        ))
        self.db = None
        self.takes = ()  # set with ``db`` by the writer


# A checked row: (day, line, place, person, given).
Row = tuple[Day, int, Place, Person, Given]


class Checked(list):
    """The checked rows of a file, and the distinct people in them."""

    people: list[Person]


def program_today() -> dt.date:
    return timezone.localtime(timezone.now(), program_tz()).date()


def parse(table: Table, ctx: ImportContext, problems: ProblemList) -> Checked:
    """Check every row; return the rows (meaningful only when no problem was added).

    Each distinct cell text (or group of cells) is checked once; the cache maps it to the
    shared object it stands for or to the list of (column, message) problems it has.
    """
    # One Place per site, however its code is written in the cells (" NA1" and "NA1").
    sites = {s.code: Place(s) for s in Site.objects.all()}
    allowed = ctx.site_ids
    today = program_today()
    fast_hash = uichash.hasher()
    dates: dict[str, object] = {}
    days: dict[dt.date, Day] = {}  # one Day per date, however it is written
    places: dict[str, object] = {}
    people: dict[tuple, object] = {}
    services: dict[tuple, object] = {}
    out = Checked()
    append = out.append
    add = problems.add

    for line, v in progress_bar(table.rows, ctx, table.lines, _("checking")):
        d = dates.get(v[0])
        if d is None:
            d = dates[v[0]] = _day(v[0], today, days)
        s = places.get(v[1])
        if s is None:
            s = places[v[1]] = _place(v[1], sites, allowed)
        key = (v[2], v[3], v[4])
        p = people.get(key)
        if p is None:
            p = people[key] = _person(v[2], v[3], v[4], fast_hash, today)
        key = tuple(v[5:])
        g = services.get(key)
        if g is None:
            g = _services(key)
            if len(services) < SERVICES_CACHE:
                services[key] = g
        if d.__class__ is Day and s.__class__ is Place and p.__class__ is Person and g.__class__ is Given:
            append((d, line, s, p, g))
        else:
            # Problems in column order; run_import puts the rows in file order.
            for found in (d, s, p, g):
                if found.__class__ is list:
                    for column, message in found:
                        add(line, column, message)
    out.people = [p for p in people.values() if p.__class__ is Person]
    return out


def _day(text: str, today: dt.date, days: dict[dt.date, Day]) -> Day | list:
    try:
        date = cells.date(text, today)
    except cells.CellError as exc:
        return [("date", str(exc))]
    day = days.get(date)
    if day is None:
        day = days[date] = Day(date)
    return day


def _place(text: str, sites: dict[str, Place], allowed: set | None) -> Place | list:
    code = text.strip()
    place = sites.get(code)
    if place is None:
        return [("site", _("unknown site %(code)s") % {"code": code or '""'})]
    if allowed is not None and place.site.id not in allowed:
        return [("site", _("%(code)s is not one of your sites") % {"code": place.code})]
    return place


def _person(raw_uic: str, sex_text: str, year_text: str, fast_hash: Callable[[str], uichash.Hashes],
            today: dt.date) -> Person | list:
    """The person for the uic, sex and birth_year cells, or a list of problems."""
    found = []
    hashes: uichash.Hashes | None = None
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
    assert hashes is not None  # a UIC that did not hash is in ``found``
    return Person(hashes, sex or hashes.sex or Sex.NOT_RECORDED, birth_year or hashes.birth_year)


def _services(v: tuple) -> Given | list:
    """The Given for the cells from ``injects`` to ``referral_to``, or a list of (column, message)
    problems."""
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
    return Given(*values)


def apply(ctx: ImportContext, rows: Checked) -> dict:
    with big_write():
        return _write(ctx.actor, rows, rows.people, source=ctx.source, note=f"import {ctx.sha256[:12]}",
                      progress=ctx)


def write_contacts(actor, rows: list[ContactRow], *, source: str, note: str, progress: ImportContext | None = None) -> dict:
    """Write checked rows: clients, contacts, referrals, stock, site links. Caller's transaction.

    Rows whose contact id already exists are skipped. Returns counts (no audit row: the
    caller writes one for the whole file).
    """
    checked, people = _shared(rows)
    with big_write():
        return _write(actor, checked, people, source=source, note=note, progress=progress)


def _shared(rows: list[ContactRow]) -> tuple[list[Row], list[Person]]:
    """ContactRows as checked rows: one Day, Place, Person and Given per distinct value."""
    days: dict = {}
    places: dict = {}
    people: dict = {}
    givens: dict = {}
    out = []
    for r in rows:
        d = days.get(r.date) or days.setdefault(r.date, Day(r.date))
        s = places.get(r.site.code) or places.setdefault(r.site.code, Place(r.site))
        key = (r.hashes.uic_hash, r.sex, r.birth_year)
        p = people.get(key) or people.setdefault(key, Person(r.hashes, r.sex, r.birth_year))
        services = (r.injects, r.syringes_given, r.syringes_returned, r.condoms_given, r.naloxone_kits_given,
                    r.education, r.hiv_test_result, r.hcv_test_result, r.referral_to)
        g = givens.get(services) or givens.setdefault(services, Given(*services))
        out.append((d, r.line, s, p, g))
    return out, list(people.values())


def contact_keys(rows: list[ContactRow]) -> list[tuple[str, str]]:
    """(id as 32 hex digits, content key) of each row, in the order given.

    The id is the UUID5 of the row's content key and its occurrence number: the n-th identical
    row of a file always gets the same id, so a re-import finds it. (The writer computes the
    same from the shared parts of a row; this is the plain form of the rule.)
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


def _present_ids(rows: list[Row]) -> set[str]:
    """Hex ids of contacts already stored on the dates and at the sites the rows cover."""
    if not rows:
        return set()
    days = {r[0] for r in rows}
    first = min(d.date for d in days)
    last = max(d.date for d in days)
    site_ids = sorted({db_uuid(p.site.id) for p in {r[2] for r in rows}}, key=str)
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


def _live_client_ids(hashes: list[str]) -> dict[str, uuid.UUID]:
    """uic_hash -> id of the live client for it (following merges), for the hashes registered."""
    found = {h: (pk, merged) for h, pk, merged in _existing(Client, "uic_hash", hashes, ("uic_hash", "id", "merged_into_id"))}
    merged_into = {pk: merged for pk, merged in found.values()}
    out = {}
    for h, (pk, merged) in found.items():
        hops = 0
        while merged is not None and hops < 20:
            pk = merged
            if pk not in merged_into:
                merged_into[pk] = Client.objects.filter(pk=pk).values_list("merged_into_id", flat=True).get()
            merged = merged_into[pk]
            hops += 1
        out[h] = pk
    return out


def _write(actor, rows: list[Row], people: list[Person], *, source: str, note: str, progress) -> dict:
    """Write checked rows (see :func:`write_contacts`)."""
    from salus.core.config import program_config

    n_rows = len(rows)
    present = _present_ids(rows)
    now = timezone.now()
    staff_id = actor.pk if getattr(actor, "pk", None) else None
    native_uuid = connection.features.has_native_uuid_field
    as_bool = db_bool() or bool

    # Every person's client: the live record for their UIC, or a new one (written below only
    # if some new row needs it).
    hashes = sorted({p.uic_hash for p in people})
    existing = _live_client_ids(hashes)
    unknown = [h for h in hashes if h not in existing]
    new_ids = dict(zip(unknown, new_uuids(len(unknown)), strict=True))  # as the driver takes them
    known_ids = {h: db_uuid(pk) for h, pk in existing.items()}
    for p in people:
        p.client = known_ids.get(p.uic_hash) or new_ids[p.uic_hash]
    rank = {c: i for i, c in enumerate(sorted({p.client for p in people}, key=str))}
    for p in people:
        p.order = rank[p.client]

    # What each distinct date, site and service combination stores, worked out once.
    tz = program_tz()
    adapt_dt = connection.ops.adapt_datetimefield_value
    adapt_d = connection.ops.adapt_datefield_value

    def day_db(d: Day) -> tuple:
        when = timezone.make_aware(dt.datetime.combine(d.date, CONTACT_TIME), tz)
        d.db = (adapt_dt(when), adapt_d(d.date))
        return d.db

    def place_db(s: Place) -> tuple:
        # str(): the plain value, not the choices member (a str subclass the driver adapts slowly).
        s.db = (db_uuid(s.site.id), str(SETTING_FOR_KIND.get(s.site.kind, Contact.Setting.FIXED_SITE)))
        return s.db

    commodity_codes = set(Commodity.objects.values_list("code", flat=True))
    syringe = program_config().syringe_commodity
    counted = [(f, c) for f, c in (("syringes_given", syringe), ("condoms_given", "condom"),
                                   ("naloxone_kits_given", "naloxone_kit")) if c in commodity_codes]
    hiv_kit = TEST_COMMODITIES["hiv_tested"] if TEST_COMMODITIES["hiv_tested"] in commodity_codes else None
    hcv_kit = TEST_COMMODITIES["hcv_tested"] if TEST_COMMODITIES["hcv_tested"] in commodity_codes else None
    not_given = TestResult.NOT_GIVEN

    def given_db(g: Given) -> tuple:
        hiv, hcv = g.hiv, g.hcv
        g.db = (
            g.syringes_given, g.syringes_returned, g.condoms_given, g.naloxone_kits_given, as_bool(g.education),
            as_bool(bool(hiv)), as_bool(bool(hiv) and hiv != not_given),
            as_bool(bool(hcv)), as_bool(bool(hcv) and hcv != not_given),
        )
        takes = [(code, getattr(g, f)) for f, code in counted if getattr(g, f)]
        if hiv and hiv_kit:
            takes.append((hiv_kit, 1))
        if hcv and hcv_kit:
            takes.append((hcv_kit, 1))
        g.takes = tuple(takes)
        return g.db

    encrypt_hiv = Contact._meta.get_field("hiv_result").bulk_encrypter()
    encrypt_hcv = Contact._meta.get_field("hcv_result").bulk_encrypter()
    ns = CONTACT_NAMESPACE.bytes
    ns_referral = b"referral"
    sha256 = hashlib.sha256
    seen: dict[str, int] = {}
    contacts: list[tuple] = []
    referrals: list[tuple] = []
    taken: dict[tuple, int] = {}
    links_first: dict[tuple, Day] = {}
    links_last: dict[tuple, Day] = {}
    # Per UIC hash, over the new rows in (date, line) order: the first row's day and place,
    # the latest row's person, the latest injecting status given.
    first_row: dict[str, tuple] = {}
    latest: dict[str, Person] = {}
    injects: dict[str, bool] = {}

    # Client, then date order (stable: identical rows keep their file order, so occurrence
    # numbers are those of the file) makes a client's first and latest row the first and last
    # met, and appends to the two client indexes of the contacts (in id order) instead of
    # inserting all over them.
    rows = sorted(rows, key=_row_order)
    iterable = rows if progress is None else progress_bar(rows, progress, n_rows, _("importing"))
    seen_get, taken_get, add_contact = seen.get, taken.get, contacts.append
    for d, _line, s, p, g in iterable:
        key = f"{p.uic_hash}\x1f{s.code}\x1f{d.iso}\x1f{p.tail}\x1f{g.tail}"
        occ = seen_get(key, 0)
        seen[key] = occ + 1
        cid = uuid5_hex(ns, f"{key}\x1f{occ}")
        if cid in present:
            continue
        h = p.uic_hash
        if h not in first_row:
            first_row[h] = (d, s)
        latest[h] = p
        if g.injects is not None:
            injects[h] = g.injects
        ddb = d.db or day_db(d)
        sdb = s.db or place_db(s)
        gdb = g.db or given_db(g)
        client = p.client
        link = (client, sdb[0])
        if link not in links_first:
            links_first[link] = d
        links_last[link] = d
        for code, q in g.takes:
            k = (s, code, d)
            taken[k] = taken_get(k, 0) + q
        if g.referral:
            referrals.append((uuid5_hex(ns_referral, cid), client, sdb[0], cid, g.referral, ddb[1]))
        hiv, hcv = g.hiv, g.hcv
        add_contact((
            cid, client, *sdb, *ddb, encrypt_hiv(hiv) if hiv else "", encrypt_hcv(hcv) if hcv else "",
            sha256(key.encode()).hexdigest(), *gdb,
        ))
    if native_uuid:  # the driver takes UUIDs there, not hex
        contacts = [(uuid.UUID(c[0]), *c[1:]) for c in contacts]
        referrals = [(uuid.UUID(r[0]), *r[1:3], uuid.UUID(r[3]), *r[4:]) for r in referrals]
    del seen, rows
    if not contacts:
        return {"contacts_created": 0, "contacts_skipped": n_rows, "clients_registered": 0}

    new_clients = _write_clients(first_row, latest, injects, existing, new_ids, now)
    n = insert_rows(
        Contact,
        ["id", "client_id", "site_id", "setting", "occurred_at", "date", "hiv_result", "hcv_result",
         "content_hash", "syringes_given", "syringes_returned", "condoms_given", "naloxone_kits_given",
         "education", "hiv_tested", "hiv_result_given", "hcv_tested", "hcv_result_given"],
        contacts,
        raw=frozenset({"id", "client_id", "site_id", "occurred_at", "date", "hiv_result", "hcv_result",
                       "education", "hiv_tested", "hiv_result_given", "hcv_tested", "hcv_result_given"}),
        constants={"staff_id": staff_id, "other_equipment_given": 0, "source": source, "created_at": now},
    )
    del contacts
    insert_rows(
        Referral,
        ["id", "client_id", "site_id", "contact_id", "service", "made_on"],
        referrals,
        raw=frozenset({"id", "client_id", "site_id", "contact_id", "made_on"}),
        constants={"made_by_id": staff_id, "status": Referral.Status.MADE.value, "outcome_on": None,
                   "note": "", "updated_at": now},
    )
    moved = sorted((s.code, code, d.ordinal, s, d, q) for (s, code, d), q in taken.items())
    insert_rows(
        StockMovement,
        ["id", "site_id", "commodity_id", "quantity", "occurred_on"],
        ((pk, s.db[0], code, -q, d.db[1]) for pk, (_c, code, _o, s, d, q) in zip(new_uuids(len(moved)), moved, strict=True)),
        raw=frozenset({"id", "site_id", "occurred_on"}),
        constants={"kind": StockMovement.Kind.DISTRIBUTION.value, "at": now, "contact_id": None,
                   "recorded_by_id": staff_id, "note": note[:200]},
    )
    # Client-site links before stock levels, as a contact posted through the API takes them
    # (its levels come last, decision 0005): in the other order an import and a contact for
    # the same client would wait for each other.
    _write_links(links_first, links_last, {db_uuid(pk) for pk in existing.values()})
    per_level: dict[tuple, list] = {}
    for site_code, code, _o, s, _d, q in moved:
        per_level.setdefault((site_code, code), [s.site, 0])[1] += q
    for (_site_code, code), (site, q) in sorted(per_level.items()):
        apply_to_level(site, code, -q)
    return {
        "contacts_created": n,
        "contacts_skipped": n_rows - n,
        "clients_registered": new_clients,
        "referrals_created": len(referrals),
    }


def _row_order(row: Row) -> int:
    """Client rank, then date (an ordinal is below 2**20 until the year 2870)."""
    return row[3].order << 20 | row[0].ordinal


def _write_clients(first_row: dict, latest: dict, injects: dict, existing: dict, new_ids: dict, now) -> int:
    """Register the new clients of the new rows and bring the known ones up to date.

    Returns the number registered.
    """
    # In id order: the primary key and the neighbour keys' client index are then appended to.
    new = sorted((h for h in first_row if h not in existing), key=new_ids.__getitem__)
    as_bool = db_bool() or bool
    insert_rows(
        Client,
        ["id", "uic_hash", "sex", "birth_year", "injects", "first_contact_date", "registered_site_id"],
        ((new_ids[h], h, latest[h].sex, latest[h].birth_year, as_bool(bool(injects.get(h))), first_row[h][0].db[1],
          first_row[h][1].db[0]) for h in new),
        raw=frozenset({"id", "injects", "first_contact_date", "registered_site_id"}),
        constants={"substances": [], "consent_follow_up": False, "registered_at": now, "merged_into_id": None},
    )
    insert_rows(UICNeighbourKey, ["client_id", "position", "key"],
                ((latest[h].client, position, k) for h in new for position, k in enumerate(latest[h].hashes.neighbour_keys)),
                raw=frozenset({"client_id"}))
    known = [h for h in first_row if h in existing]
    clients: dict[uuid.UUID, Client] = {}
    for chunk in iter_chunks(sorted({existing[h] for h in known}, key=str), LOOKUP_CHUNK):
        clients.update((c.pk, c) for c in Client.objects.filter(pk__in=chunk))
    for h in known:
        client = clients[existing[h]]
        p = latest[h]
        changed = []
        for name, value in (("sex", p.sex), ("birth_year", p.birth_year), ("injects", injects.get(h))):
            if value is not None and value != Sex.NOT_RECORDED and getattr(client, name) != value:
                setattr(client, name, value)
                changed.append(name)
        if changed:
            client.save(update_fields=changed)
        widen_first_contact(client, first_row[h][0].date)
    return len(new)


def _write_links(first: dict[tuple, Day], last: dict[tuple, Day], known_clients: set) -> None:
    """Create or widen the ClientSite link of each (client, site) pair to cover the new dates.

    ``first`` and ``last`` map (client id, site id), both as the driver takes them, to the
    earliest and latest day (their ``db`` set); only clients in ``known_clients`` can have
    links already.
    """
    native = connection.features.has_native_uuid_field
    client_ids = list({c for c, _s in first if c in known_clients})
    if not native:
        client_ids = [uuid.UUID(c) for c in client_ids]
    existing = {}
    for pk, client_id, site_id, old_first, old_last in _existing(
        ClientSite, "client_id", client_ids, ("id", "client_id", "site_id", "first_seen", "last_seen")
    ):
        existing[(db_uuid(client_id), db_uuid(site_id))] = (pk, old_first, old_last)
    new_rows = []
    for key, f in sorted(first.items()):  # client order: their indexes are appended to
        la = last[key]
        old = existing.get(key)
        if old is None:
            assert f.db is not None and la.db is not None  # see the docstring
            new_rows.append((*key, f.db[1], la.db[1]))
            continue
        pk, old_first, old_last = old
        first_seen, last_seen = f.date, la.date
        if first_seen < old_first or last_seen > old_last:
            ClientSite.objects.filter(pk=pk).update(first_seen=min(first_seen, old_first),
                                                    last_seen=max(last_seen, old_last))
    insert_rows(ClientSite, ["client_id", "site_id", "first_seen", "last_seen"], new_rows,
                raw=frozenset({"client_id", "site_id", "first_seen", "last_seen"}))


__all__ = ["COLUMNS", "HELP", "ContactRow", "apply", "parse", "write_contacts"]
