"""Permission specs for every operation of the JSON API (/api/v1/).

Each ``build`` makes fresh objects at site A (a new client code each time), so that it can be
called once per persona without one persona's write changing what the next one sees.
"""

import datetime as dt
import itertools
import string

from permission import EVERY_ROLE, FRONTLINE, Spec

OST_ROLES = frozenset({"clinician", "manager", "admin"})
INDICATOR_ROLES = frozenset({"coordinator", "manager", "analyst", "admin"})
DAY = "2025-03-01"
_codes = itertools.count()


def fresh_uic() -> str:
    """A UIC no earlier build used: letters from a counter, fixed birth year and sex."""
    n = next(_codes)
    letters = string.ascii_uppercase
    parts = [letters[(n // 26**i) % 26] for i in range(4)]
    return "".join(parts) + "1990F"


def _get(url):
    return lambda program, record_contact: (url, None)


def _client(program, record_contact):
    return record_contact(program.site_a, fresh_uic(), when=dt.date(2025, 3, 1)).client


def _contact_body(program, record_contact):
    return "/api/v1/contacts", {"date": DAY, "site": "NA1", "uic": fresh_uic(), "syringes_given": 5}


def _client_body(program, record_contact):
    return "/api/v1/clients", {"site": "NA1", "uic": fresh_uic(), "injects": True}


def _client_url(program, record_contact):
    return f"/api/v1/clients/{_client(program, record_contact).id}", None


def _contact_url(program, record_contact):
    contact = record_contact(program.site_a, fresh_uic(), when=dt.date(2025, 3, 1))
    return f"/api/v1/contacts/{contact.id}", None


def _referral_body(program, record_contact):
    client = _client(program, record_contact)
    return "/api/v1/referrals", {"client": str(client.id), "site": "NA1", "service": "hiv_testing", "made_on": DAY}


def _referral_patch(program, record_contact):
    from salus.services.actions import do_create_referral

    client = _client(program, record_contact)
    ref = do_create_referral("test", client=client, site=program.site_a, service="ost", made_on=dt.date(2025, 3, 1))
    return f"/api/v1/referrals/{ref.id}", {"status": "attended", "outcome_on": "2025-03-04"}


def _episode_body(program, record_contact):
    client = _client(program, record_contact)
    return "/api/v1/ost-episodes", {"client": str(client.id), "site": "NA1", "medication": "methadone",
                                    "start_date": DAY}


def _episode(program, record_contact):
    from salus.services.actions import do_start_ost_episode

    client = _client(program, record_contact)
    return do_start_ost_episode("test", client=client, site=program.site_a, medication="buprenorphine",
                                start_date=dt.date(2025, 3, 1))


def _dose_body(program, record_contact):
    ep = _episode(program, record_contact)
    return f"/api/v1/ost-episodes/{ep.id}/doses", {"date": "2025-03-02", "dose_mg": "8", "phase": "induction"}


def _end_body(program, record_contact):
    ep = _episode(program, record_contact)
    return f"/api/v1/ost-episodes/{ep.id}/end", {"end_date": "2025-03-10", "end_reason": "completed"}


def _overdose_body(program, record_contact):
    client = _client(program, record_contact)
    return "/api/v1/overdoses", {"client": str(client.id), "site": "NA1", "date": DAY, "involvement": "witnessed",
                                 "naloxone_kits_used": 1, "outcome": "survived"}


def _lookup_body(program, record_contact):
    uic = fresh_uic()
    record_contact(program.site_a, uic, when=dt.date(2025, 3, 1))
    return "/api/v1/clients/lookup", {"uic": uic}


def _api(route, allowed, build, method="GET", site_scoped=True, ok=frozenset({200})):
    return Spec(route, allowed, build, method=method, site_scoped=site_scoped, kind="api", ok_statuses=ok)


CREATED = frozenset({201})
SPECS = [
    # Lists answer 200 for every allowed persona: each sees only their own sites' rows.
    _api("GET /api/v1/clients", FRONTLINE, _get("/api/v1/clients"), site_scoped=False),
    _api("POST /api/v1/clients", FRONTLINE, _client_body, "POST", ok=frozenset({200, 201})),
    _api("POST /api/v1/clients/lookup", FRONTLINE, _lookup_body, "POST", site_scoped=False),
    _api("GET /api/v1/clients/{client_id}", FRONTLINE, _client_url),
    _api("GET /api/v1/contacts", FRONTLINE, _get("/api/v1/contacts"), site_scoped=False),
    _api("POST /api/v1/contacts", FRONTLINE, _contact_body, "POST", ok=CREATED),
    _api("GET /api/v1/contacts/{contact_id}", FRONTLINE, _contact_url),
    _api("GET /api/v1/referrals", FRONTLINE, _get("/api/v1/referrals"), site_scoped=False),
    _api("POST /api/v1/referrals", FRONTLINE, _referral_body, "POST", ok=CREATED),
    _api("PATCH /api/v1/referrals/{referral_id}", FRONTLINE, _referral_patch, "PATCH"),
    # The site list holds no individual record: analysts may read it too.
    _api("GET /api/v1/sites", EVERY_ROLE, _get("/api/v1/sites"), site_scoped=False),
    _api("GET /api/v1/stock", FRONTLINE, _get("/api/v1/stock"), site_scoped=False),
    _api("GET /api/v1/stock/movements", FRONTLINE, _get("/api/v1/stock/movements"), site_scoped=False),
    _api("GET /api/v1/ost-episodes", OST_ROLES, _get("/api/v1/ost-episodes"), site_scoped=False),
    _api("POST /api/v1/ost-episodes", OST_ROLES, _episode_body, "POST", ok=CREATED),
    _api("POST /api/v1/ost-episodes/{episode_id}/doses", OST_ROLES, _dose_body, "POST", ok=CREATED),
    _api("POST /api/v1/ost-episodes/{episode_id}/end", OST_ROLES, _end_body, "POST"),
    _api("GET /api/v1/overdoses", FRONTLINE, _get("/api/v1/overdoses"), site_scoped=False),
    _api("POST /api/v1/overdoses", FRONTLINE, _overdose_body, "POST", ok=CREATED),
    # Aggregates of site A: its coordinator and the organisation-wide roles (not worker_b's role).
    _api("GET /api/v1/indicators", INDICATOR_ROLES, _get("/api/v1/indicators?period=2025Q1&site=NA1&totals=true")),
]
