"""The synthetic demo program: a year of made-up but plausible harm reduction work.

``salus demo`` calls :func:`load_demo` after ``salus init``. It builds a country ``DEMO`` with
two provinces and three districts, eight sites of every kind, a few hundred clients and a year
of contacts ending today, OST episodes with daily doses, referrals with outcomes, overdose
events, stock receipts and population size estimates, plus one log-in per role. Every figure
is invented; ``program.toml`` is marked ``synthetic = true`` so that every screen says so.

The data are drawn from a seeded ``random.Random``: two loads on the same day give the same
program (the log-in passwords excepted, which are always fresh). Contacts are written through
the bulk import path (salus.transfer.importers.contacts.write_contacts), so loading takes a
few seconds. A second call finds the ``DEMO`` area and returns an empty list.

Other packages add their own synthetic records through ``DEMO_EXTENSIONS``: each module named
there that exists has its ``load(ctx)`` called with a :class:`DemoContext`, inside the same
transaction.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import math
import os
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from salus.clients import uic as uicmod
from salus.clients.actions import link_client_to_site
from salus.clients.models import Client
from salus.core import audit
from salus.core.actions import do_create_user, do_ensure_area_path, do_save_site, generate_password
from salus.core.models import Area, Site, User
from salus.services.actions import do_record_overdose
from salus.services.models import OSTDose, OSTEpisode, Referral, Source
from salus.stock.actions import do_record_stock_movement
from salus.stock.models import Commodity, StockMovement
from salus.transfer.bulk import insert_rows
from salus.transfer.importers.contacts import ContactRow, program_today, write_contacts
from salus.transfer.importers.pse import EstimateRow, write_estimates

DEMO_EXTENSIONS: tuple[str, ...] = ("salus.care.demo",)

PROGRAM_NAME = "Salus demo program (synthetic data)"
COUNTRY = "DEMO"
SEED = 20240626  # the International Day against Drug Abuse: any fixed number would do

AREAS = {
    "DEMO": "Demo country (synthetic)",
    "DEMO/NORTH": "North province",
    "DEMO/NORTH/RIVERSIDE": "Riverside district",
    "DEMO/NORTH/HILLTOP": "Hilltop district",
    "DEMO/SOUTH": "South province",
    "DEMO/SOUTH/PORTSIDE": "Portside district",
}

# code, name, district, kind, share of clients whose main site it is, days open (Mon=0).
SITES = (
    ("RV-NSP", "Riverside needle-syringe program", "DEMO/NORTH/RIVERSIDE", "fixed_nsp", 0.22, (0, 1, 2, 3, 4, 5)),
    ("RV-DIC", "Riverside drop-in centre", "DEMO/NORTH/RIVERSIDE", "drop_in", 0.18, (0, 1, 2, 3, 4, 5, 6)),
    ("RV-OUT", "Riverside outreach team", "DEMO/NORTH/RIVERSIDE", "outreach", 0.16, (0, 1, 2, 3, 4)),
    ("HT-MOB", "Hilltop mobile unit", "DEMO/NORTH/HILLTOP", "mobile", 0.12, (1, 3, 5)),
    ("HT-OST", "Hilltop OST clinic", "DEMO/NORTH/HILLTOP", "ost_clinic", 0.0, (0, 1, 2, 3, 4, 5)),
    ("PS-PHA", "Portside community pharmacy", "DEMO/SOUTH/PORTSIDE", "pharmacy", 0.12, (0, 1, 2, 3, 4, 5)),
    ("PS-OUT", "Portside outreach team", "DEMO/SOUTH/PORTSIDE", "outreach", 0.14, (0, 1, 2, 3, 4)),
    ("PS-PRI", "Portside prison program", "DEMO/SOUTH/PORTSIDE", "prison", 0.06, (1, 3)),
)
OST_SITE = "HT-OST"

# role, user name, site codes.
USERS = (
    ("worker", "demo-worker", ("RV-NSP", "RV-DIC", "RV-OUT")),
    ("coordinator", "demo-coordinator", ("RV-NSP", "RV-DIC", "RV-OUT")),
    ("clinician", "demo-clinician", ("HT-OST", "HT-MOB")),
    ("manager", "demo-manager", ()),
    ("analyst", "demo-analyst", ()),
    ("admin", "demo-admin", ()),
)

# Sites that offer HIV/HCV rapid testing.
TESTING_KINDS = {"fixed_nsp", "drop_in", "outreach", "mobile", "ost_clinic", "prison"}

# PSEs (synthetic): area -> population -> (estimate, low, high). A national estimate, as
# most programs have, so that the whole program's dashboard shows coverage; the provinces'
# do not add up to it (estimates made separately rarely do, and the engine never adds them).
PSE = {
    "DEMO": {"pwid": (4100, 3000, 5600), "opioid_dependent": (5600, 4200, 7300),
             "pwid_hiv": (380, 240, 560)},
    "DEMO/NORTH": {"pwid": (2400, 1800, 3100), "opioid_dependent": (3300, 2500, 4200)},
    "DEMO/SOUTH": {"pwid": (1500, 1100, 2000), "opioid_dependent": (2100, 1600, 2700)},
}
PSE_METHOD = "Synthetic figure for the demo (imitates a multiplier estimate)"
PSE_SOURCE = "Salus demo program: invented data, not a real estimate"

LETTERS = "ABDEHIKLMNORSTUYZ"
REFERRAL_OTHER = ("ost", "social", "tb", "mental_health", "housing", "legal", "prep", "primary_care", "sti")


@dataclass
class DemoContext:
    """What a demo extension gets: the demo's sites by code, users by role, clients, and the
    seeded random generator and the program's today (both to keep extensions deterministic)."""

    sites: dict[str, Site]
    users: dict[str, User]
    clients: list[Client]
    rng: random.Random
    today: dt.date


@dataclass
class _Person:
    """A synthetic client while the demo is drawn (nothing here is stored as it is)."""

    uic: str
    sex: str
    birth_year: int
    injects: bool
    hiv: bool
    hcv: bool
    sites: list[str]
    start: int  # first day index of contact
    stop: int  # last day index of contact (exclusive)
    rate: float  # contacts per open day
    on_ost: bool
    hiv_known: bool = False
    hcv_known: bool = False
    last_hiv: int = -10_000
    last_hcv: int = -10_000
    last_naloxone: int = -10_000


def demo_loaded() -> bool:
    return Area.objects.filter(path=COUNTRY).exists()


def load_demo(*, clients: int = 400, days: int = 365, seed: int = SEED) -> list[tuple[str, str, str]]:
    """Load the synthetic program; return (role, user name, password) per role, or [] if loaded.

    ``clients`` and ``days`` make a smaller program for tests. The log-ins are also written to
    ``$SALUS_HOME/demo-logins.txt`` (owner-only).
    """
    if demo_loaded():
        return []
    rng = random.Random(seed)
    today = program_today()
    logins: list[tuple[str, str, str]] = []
    with transaction.atomic():
        _write_config()
        sites = _sites()
        users = {}
        for role, username, codes in USERS:
            password = generate_password()
            users[role] = do_create_user("demo", username=username, role=role,
                                         sites=[sites[c] for c in codes], password=password)
            logins.append((role, username, password))
        people = _people(rng, clients, days)
        rows = _contact_rows(rng, people, sites, today, days)
        counts = write_contacts("demo", rows, source=Source.DEMO, note="synthetic demo")
        by_uic = {p.uic: p for p in people}
        hashes = {p.uic: uicmod.hash_raw(p.uic).uic_hash for p in people}
        stored = {c.uic_hash: c for c in Client.objects.filter(uic_hash__in=list(hashes.values()))}
        client_of = {u: stored[h] for u, h in hashes.items() if h in stored}
        counts["ost_episodes"], counts["ost_doses"] = _ost(rng, people, client_of, sites[OST_SITE], today, days, users)
        counts["referral_outcomes"] = _referral_outcomes(rng, today)
        counts["overdoses"] = _overdoses(rng, people, client_of, sites, today, days, users)
        counts["stock_receipts"] = _stock(rng, sites, today, days, users["coordinator"])
        counts["art_records"] = _art([client_of[p.uic] for p in people if p.hiv_known and p.uic in client_of], seed)
        counts.update(write_estimates(_estimates(today)))
        audit.record("demo", "demo.load", object_type="program", object_id=COUNTRY,
                     detail={"synthetic": True, **counts})
        ctx = DemoContext(sites=sites, users=users, clients=[client_of[p.uic] for p in by_uic.values()
                                                             if p.uic in client_of],
                          rng=rng, today=today)
        for name in DEMO_EXTENSIONS:
            if _module_exists(name):
                importlib.import_module(name).load(ctx)
    _write_logins(logins)
    _write_dhis2_mapping()
    return logins


def _art(diagnosed: list[Client], seed: int) -> int:
    """ART status on the contacts after each diagnosis: about two in three start ART.

    The contact CSV has no ART column, so the demo writes it afterwards, one contact at a time
    (each value is encrypted with its own nonce). Its own random stream keeps the rest of the
    demo unchanged.
    """
    from salus.services.models import Contact

    rng = random.Random(seed + 7)
    written = 0
    for client in diagnosed:
        on_art = rng.random() < 0.65
        delay = dt.timedelta(days=rng.choice((14, 30, 60, 90)))
        diagnosed_at = None
        for contact in Contact.objects.filter(client=client).order_by("occurred_at"):
            if diagnosed_at is None:
                if contact.hiv_tested and contact.hiv_result == "positive":
                    diagnosed_at = contact.occurred_at
                continue
            contact.art_status = "on_art" if on_art and contact.occurred_at >= diagnosed_at + delay else "not_on_art"
            contact.save(update_fields=["art_status"])
            written += 1
    return written


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _write_config() -> None:
    """Mark the program synthetic in program.toml, keeping any other setting already there."""
    from salus.core.config import config_path, reset_cache

    path = config_path()
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = [ln for ln in lines if ln.split("=", 1)[0].strip() not in ("synthetic", "program_name")]
    head = ["synthetic = true", f'program_name = "{PROGRAM_NAME}"']
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(head + kept) + "\n", encoding="utf-8")
    reset_cache()


def _write_dhis2_mapping() -> None:
    """Give the demo the example DHIS2 mapping (it names the demo's areas and sites), so that
    the indicators page offers DHIS2 and ADX downloads; a program's own file is kept."""
    from salus.core.config import program_config
    from salus.indicators.exports import dhis2

    name = program_config().dhis2_mapping
    path = Path(settings.SALUS_HOME) / name if name else None
    if path is None or path.exists():
        return
    example = Path(dhis2.__file__).with_name("dhis2-mapping.example.toml")
    path.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")


def _write_logins(logins: list[tuple[str, str, str]]) -> None:
    path = Path(settings.SALUS_HOME) / "demo-logins.txt"
    text = "# Synthetic demo program: log-ins (role, user name, password)\n" + "".join(
        f"{role}\t{username}\t{password}\n" for role, username, password in logins
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _sites() -> dict[str, Site]:
    for path in AREAS:
        do_ensure_area_path("demo", path, names=AREAS)
    sites = {}
    for code, name, district, kind, _share, _open in SITES:
        sites[code], _ = do_save_site("demo", code=code, name=name, area=Area.objects.get(path=district), kind=kind)
    return sites


def _people(rng: random.Random, n: int, days: int) -> list[_Person]:
    main_sites = [(s[0], s[4]) for s in SITES if s[4] > 0]
    codes = [c for c, _w in main_sites]
    weights = [w for _c, w in main_sites]
    seen: set[str] = set()
    people: list[_Person] = []
    while len(people) < n:
        sex = rng.choices("MFTX", weights=(74, 20, 4, 2))[0]
        birth_year = int(rng.triangular(1966, 2005, 1989))
        uic = "".join(rng.choice(LETTERS) for _ in range(4)) + str(birth_year) + sex
        if uic in seen:
            continue
        seen.add(uic)
        injects = rng.random() < 0.85
        on_ost = injects and rng.random() < 0.14
        home = rng.choices(codes, weights=weights)[0]
        visited = [home]
        if on_ost:
            visited.append(OST_SITE)  # tests and naloxone at the clinic too
        elif rng.random() < 0.3:
            visited.append(rng.choice([c for c in codes if c != home]))
        # Six in ten were already coming when the year began; the rest arrive during it.
        start = 0 if rng.random() < 0.6 else rng.randrange(days)
        stop = days if rng.random() < 0.75 else rng.randrange(start + 1, days + 1)
        # Contacts a month, heterogeneous: most come now and then, a few very often.
        per_month = rng.gammavariate(1.4, 2.2)
        people.append(_Person(
            uic=uic, sex=sex, birth_year=birth_year, injects=injects,
            hiv=rng.random() < (0.22 if injects else 0.05),
            hcv=rng.random() < (0.62 if injects else 0.10),
            sites=visited, start=start, stop=stop, rate=min(per_month / 22.0, 0.9),
            on_ost=on_ost,
        ))
    return people


def _contact_rows(rng: random.Random, people: list[_Person], sites: dict[str, Site], today: dt.date,
                  days: int) -> list[ContactRow]:
    first_day = today - dt.timedelta(days=days - 1)
    open_days = {s[0]: set(s[5]) for s in SITES}
    hashes = {p.uic: uicmod.hash_raw(p.uic) for p in people}
    rows: list[ContactRow] = []
    for i in range(days):
        day = first_day + dt.timedelta(days=i)
        # More contacts in the cold months (northern hemisphere), fewer in summer.
        season = 1.0 + 0.2 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)
        weekday = day.weekday()
        for p in people:
            if not p.start <= i < p.stop:
                continue
            site_code = p.sites[0] if len(p.sites) == 1 or rng.random() < 0.75 else p.sites[1]
            if weekday not in open_days[site_code]:
                continue
            if rng.random() >= p.rate * season:
                continue
            rows.append(_one_contact(rng, p, i, day, sites[site_code], hashes[p.uic], len(rows) + 2))
    # Everyone drawn came at least once: a first visit on their home site's first open day.
    seen = {r.hashes.uic_hash for r in rows}
    for p in people:
        if hashes[p.uic].uic_hash in seen:
            continue
        home = p.sites[0]
        i = next((k for k in range(p.start, days) if (first_day + dt.timedelta(days=k)).weekday() in open_days[home]),
                 days - 1)
        rows.append(_one_contact(rng, p, i, first_day + dt.timedelta(days=i), sites[home], hashes[p.uic], len(rows) + 2))
    return rows


def _one_contact(rng, p: _Person, i: int, day: dt.date, site: Site, hashes, line: int) -> ContactRow:
    kind = site.kind
    syringes = returned = condoms = naloxone = 0
    if p.injects:
        syringes = rng.choice((5, 10, 10, 10, 20, 20, 30, 50)) if kind != "prison" else 0
        returned = int(syringes * rng.choice((0, 0.3, 0.5, 0.8, 1.0))) if syringes else 0
        if i - p.last_naloxone > 180 and rng.random() < 0.45 or rng.random() < 0.02:
            naloxone = 1
            p.last_naloxone = i
    if rng.random() < (0.5 if kind != "pharmacy" else 0.15):
        condoms = rng.choice((3, 5, 10, 10, 20))
    education = kind != "pharmacy" and rng.random() < 0.3
    hiv = hcv = referral = ""
    if kind in TESTING_KINDS:
        if not p.hiv_known and i - p.last_hiv > 180 and rng.random() < 0.25:
            hiv = _result(rng, p.hiv)
            p.last_hiv = i
            if hiv == "positive":
                p.hiv_known = True
                referral = "hiv_care"
        if not p.hcv_known and i - p.last_hcv > 180 and rng.random() < 0.2:
            hcv = _result(rng, p.hcv)
            p.last_hcv = i
            if hcv == "positive":
                p.hcv_known = True
                referral = referral or "hcv_care"
    if not referral and rng.random() < 0.025:
        referral = rng.choice(REFERRAL_OTHER)
    return ContactRow(
        line, day, site, hashes, p.sex, p.birth_year, p.injects, syringes, returned, condoms, naloxone,
        education, hiv, hcv, referral,
    )


def _result(rng: random.Random, positive: bool) -> str:
    r = rng.random()
    if r < 0.04:
        return "not_given"
    if r < 0.05:
        return "indeterminate"
    return "positive" if positive else "negative"


END_REASONS = (("voluntary", 30), ("lost", 25), ("detained", 12), ("transferred", 10), ("completed", 10),
               ("discharged", 8), ("died", 5))


def _ost(rng, people, client_of, site: Site, today: dt.date, days: int, users) -> tuple[int, int]:
    """OST episodes at the clinic with a dose record for every day attended."""
    clinician = users["clinician"]
    first_day = today - dt.timedelta(days=days - 1)
    episodes = []
    doses = []
    for p in people:
        if not p.on_ost or p.uic not in client_of:
            continue
        client = client_of[p.uic]
        start = (first_day - dt.timedelta(days=rng.randrange(30, 400)) if rng.random() < 0.4
                 else first_day + dt.timedelta(days=rng.randrange(max(days - 7, 1))))
        medication = "methadone" if rng.random() < 0.75 else "buprenorphine"
        end = reason = None
        if rng.random() < 0.3:
            length = rng.randrange(20, 300)
            end = start + dt.timedelta(days=length)
            if end >= today:
                end = None
            else:
                reason = rng.choices([r for r, _w in END_REASONS], weights=[w for _r, w in END_REASONS])[0]
        ep = OSTEpisode(id=uuid.UUID(int=rng.getrandbits(128), version=4), client=client, site=site,
                        medication=medication, start_date=start, end_date=end, end_reason=reason or "",
                        created_by=clinician, source=Source.DEMO)
        episodes.append(ep)
        link_client_to_site(client, site, max(start, first_day))
        link_client_to_site(client, site, min(end or today, today))
        doses.extend(_doses(rng, ep, today, first_day, clinician))
    OSTEpisode.objects.bulk_create(episodes)
    insert_rows(OSTDose, ["id", "episode_id", "date", "dose_mg", "phase", "take_home_doses", "recorded_by_id"], doses)
    return len(episodes), len(doses)


def _doses(rng, ep: OSTEpisode, today: dt.date, first_day: dt.date, clinician: User):
    methadone = ep.medication == "methadone"
    target = rng.choice((60, 70, 80, 90, 100, 120)) if methadone else rng.choice((8, 12, 16, 24))
    start_dose = 20 if methadone else 4
    last = min(ep.end_date or today, today)
    # Completed episodes end with a taper; a few ongoing ones are tapering now.
    tapering = ep.end_reason == "completed" or (ep.end_date is None and rng.random() < 0.15)
    day = max(ep.start_date, first_day)
    while day <= last:
        n = (day - ep.start_date).days
        if rng.random() < 0.05:  # a missed day
            day += dt.timedelta(days=1)
            continue
        take_home = 0
        if n < 14:
            phase = "induction"
            dose = start_dose + (target - start_dose) * n / 14
        elif tapering and (last - day).days < 60:
            phase = "reducing"
            dose = max(target * (last - day).days / 60, 2 if methadone else 1)
        else:
            phase = "maintenance"
            dose = target
            if n > 90 and day.weekday() == 5:
                take_home = 1  # Saturday's visit carries Sunday's dose
        step = 5 if methadone else 2
        yield (uuid.UUID(int=rng.getrandbits(128), version=4), ep.id, day,
               Decimal(max(step, round(dose / step) * step)), phase, take_home, clinician.pk)
        day += dt.timedelta(days=2 if take_home else 1)


def _referral_outcomes(rng, today: dt.date) -> int:
    """Most referrals have an outcome; some are still open, and some of those overdue."""
    refs = list(Referral.objects.filter(status=Referral.Status.MADE).order_by("made_on", "id"))
    changed = []
    for ref in refs:
        age = (today - ref.made_on).days
        r = rng.random()
        if age < 7 or r < 0.18:
            continue  # still open: overdue when older than the follow-up days
        if r < 0.70:
            ref.status = Referral.Status.ATTENDED
        elif r < 0.85:
            ref.status = Referral.Status.NOT_ATTENDED
        else:
            ref.status = Referral.Status.LOST
        ref.outcome_on = min(ref.made_on + dt.timedelta(days=rng.randrange(1, 21)), today)
        changed.append(ref)
    Referral.objects.bulk_update(changed, ["status", "outcome_on"], batch_size=200)
    return len(changed)


def _overdoses(rng, people, client_of, sites, today, days, users) -> int:
    """Overdoses reported by clients who inject: most survived, many after naloxone."""
    first_day = today - dt.timedelta(days=days - 1)
    injecting = [p for p in people if p.injects and p.uic in client_of]
    chosen = rng.sample(injecting, min(max(2, len(injecting) // 9), len(injecting)))
    worker = users["worker"]
    for p in chosen:
        day = first_day + dt.timedelta(days=rng.randrange(max(p.start, 0), max(p.stop, p.start + 1)))
        day = min(day, today)
        involvement = "witnessed" if rng.random() < 0.6 else "experienced"
        naloxone = rng.random() < 0.65
        outcome = rng.choices(("survived", "died", "unknown"), weights=(88, 5, 7))[0]
        if involvement == "experienced" and outcome == "died":
            outcome = "survived"
        do_record_overdose(
            worker, client=client_of[p.uic], site=sites[p.sites[0]], date=day, involvement=involvement,
            naloxone_given=naloxone, naloxone_kits_used=rng.choice((1, 1, 2)) if naloxone else 0,
            outcome=outcome, emergency_called=rng.random() < 0.4,
        )
    return len(chosen)


# Commodities the demo stocks; the pack size receipts are rounded up to.
STOCKED = {"syringe": 100, "condom": 144, "naloxone_kit": 10, "hiv_test_kit": 25, "hcv_test_kit": 25}
# (site, commodity): a short supply three months ago (stock-out days) and none lately (below zero).
SHORT_SUPPLY = ("RV-OUT", "syringe")
UNSUPPLIED = ("PS-OUT", "condom")


def _stock(rng, sites, today: dt.date, days: int, coordinator: User) -> int:
    """Monthly receipts sized from what each site gave out, so most levels stay positive."""
    first_day = today - dt.timedelta(days=days - 1)
    used: dict[tuple, int] = defaultdict(int)
    for site_id, code, day, q in StockMovement.objects.filter(kind=StockMovement.Kind.DISTRIBUTION).values_list(
        "site_id", "commodity_id", "occurred_on", "quantity"
    ):
        used[(site_id, code, (day.year, day.month))] -= q
    months = []
    d = first_day.replace(day=1)
    while d <= today:
        months.append((d.year, d.month))
        d = (d + dt.timedelta(days=32)).replace(day=1)
    commodities = Commodity.objects.in_bulk(list(STOCKED))
    n = 0
    for code_site, site in sites.items():
        for code, pack in STOCKED.items():
            if code not in commodities:
                continue
            balance = 0
            for k, month in enumerate(months):
                need = used.get((site.id, code, month), 0)
                if not need and balance > 0:
                    continue
                target = int(need * rng.uniform(1.2, 1.5))
                if (code_site, code) == SHORT_SUPPLY and k == len(months) - 4:
                    target = need // 2
                if (code_site, code) == UNSUPPLIED and k >= len(months) - 2:
                    target = 0
                qty = max(0, target - balance)
                qty = -(-qty // pack) * pack
                if qty:
                    on = max(dt.date(month[0], month[1], 1), first_day)
                    do_record_stock_movement(coordinator, site=site, commodity=commodities[code], kind="receipt",
                                             quantity=qty, occurred_on=on, note="synthetic demo receipt")
                    n += 1
                balance += qty - need
    return n


def _estimates(today: dt.date) -> list[EstimateRow]:
    rows = []
    for path, pops in PSE.items():
        area = Area.objects.get(path=path)
        for year in (today.year - 1, today.year):
            for population, (est, low, high) in pops.items():
                rows.append(EstimateRow(0, area, population, year, est, low, high, PSE_METHOD, PSE_SOURCE))
    return rows
