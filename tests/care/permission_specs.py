"""Permission specs for every care page and API operation (tests/test_permission_matrix.py).

Each ``build`` makes fresh objects at site A, so one persona's write does not change what the
next persona sees. The personas hold no rights focal person grant, so only the administrator
reads rights-violation reports (the grant itself is tested in tests/care/test_rights.py).
"""

import itertools
import string

from permission import EVERY_ROLE, FRONTLINE, Spec

HIGH_RISK = frozenset({"coordinator", "clinician", "manager", "admin"})
FEEDBACK = frozenset({"coordinator", "manager", "admin"})
INDICATORS = frozenset({"coordinator", "manager", "analyst", "admin"})
ADMIN_ONLY = frozenset({"admin"})
_codes = itertools.count()


def fresh_uic() -> str:
    n = next(_codes)
    letters = string.ascii_uppercase
    return "".join(letters[(n // 26**i) % 26] for i in range(4)) + "1985T"


def _today():
    from django.utils import timezone

    from salus.services.actions import local_date

    return local_date(timezone.now())


def _client(program, record_contact):
    return record_contact(program.site_a, fresh_uic(), when=_today()).client


def _goal(program, record_contact):
    from salus.care.actions import do_choose_goal

    return do_choose_goal("test", client=_client(program, record_contact), site=program.site_a,
                          rung="stay_alive", chosen_on=_today())


def _report(program):
    from salus.care.actions import do_take_rights_report

    return do_take_rights_report(
        "test", site=program.site_a, area=program.area_a, occurred_on=_today(), violation_type="violence",
        perpetrator="police", client_wants=[], details="matrix",
    )


def _url(url, data=None):
    return lambda program, record_contact: (url, data)


def _client_url(suffix, data=None):
    return lambda program, record_contact: (f"/care/clients/{_client(program, record_contact).id}/{suffix}", data)


def _goal_url(suffix, data=None):
    return lambda program, record_contact: (f"/care/goals/{_goal(program, record_contact).id}/{suffix}", data)


def _rights_post(program, record_contact):
    return "/care/rights/new/", {
        "site": str(program.site_a.pk), "occurred_on": _today().isoformat(), "area": str(program.area_a.pk),
        "violation_type": "detention", "perpetrator": "police", "details": "",
    }


def _site_url(suffix):
    return lambda program, record_contact: (f"/care/feedback/{program.site_a.code}/{suffix}", None)


def _api_client(suffix, body=None):
    return lambda program, record_contact: (f"/api/v1/care/clients/{_client(program, record_contact).id}/{suffix}", body)


SPECS = [
    # Web
    Spec("care-client", FRONTLINE, _client_url("")),
    Spec("care-naloxone-offer", FRONTLINE, _client_url("naloxone/", {"accepted": "yes"}), method="POST"),
    Spec("care-goal-add", FRONTLINE, _client_url("goals/", {"rung": "safer_use"}), method="POST"),
    Spec("care-goal-event", FRONTLINE, _goal_url("events/", {"kind": "step"}), method="POST"),
    Spec("care-goal-set-aside", FRONTLINE, _goal_url("set-aside/", {}), method="POST"),
    Spec("care-high-risk", HIGH_RISK, _url("/care/high-risk/"), site_scoped=False),
    Spec("care-summary", INDICATORS, _url("/care/summary/"), site_scoped=False),
    Spec("care-rights-list", FRONTLINE, _url("/care/rights/"), site_scoped=False),
    Spec("care-rights-new", FRONTLINE, _url("/care/rights/new/"), site_scoped=False),
    Spec("care-rights-new", FRONTLINE, _rights_post, method="POST"),
    Spec("care-rights-advocacy", ADMIN_ONLY, _url("/care/rights/advocacy/"), site_scoped=False),
    Spec("care-rights-detail", ADMIN_ONLY, lambda p, rc: (f"/care/rights/{_report(p).id}/", None)),
    Spec("care-feedback-list", FEEDBACK, _url("/care/feedback/"), site_scoped=False),
    Spec("care-feedback-respond", FEEDBACK, lambda p, rc: ("/care/feedback/respond/", {
        "site": str(p.site_a.pk), "you_said": "More kits", "we_did": "More kits", "published": "on"}), method="POST"),
    Spec("care-feedback-qr", FEEDBACK, _site_url("qr.svg")),
    Spec("care-feedback-poster", FEEDBACK, _site_url("poster/")),
    Spec("care-feedback-form", EVERY_ROLE, lambda p, rc: (f"/care/f/{p.site_a.feedback_key}/", None),
         site_scoped=False, public=True),
    Spec("care-language-check", FRONTLINE, _url("/care/language/check/", {"notes": "sterile needles"}),
         method="POST", site_scoped=False),
    # API
    Spec("GET /api/v1/care/clients/{client_id}/risk-prompts", FRONTLINE, _api_client("risk-prompts"), kind="api"),
    Spec("POST /api/v1/care/clients/{client_id}/naloxone-offers", FRONTLINE,
         _api_client("naloxone-offers", {"accepted": True}), method="POST", kind="api"),
    Spec("GET /api/v1/care/clients/{client_id}/goals", FRONTLINE, _api_client("goals"), kind="api"),
    Spec("POST /api/v1/care/clients/{client_id}/goals", FRONTLINE, _api_client("goals", {"rung": "stop"}),
         method="POST", kind="api"),
    Spec("POST /api/v1/care/goals/{goal_id}/events", FRONTLINE,
         lambda p, rc: (f"/api/v1/care/goals/{_goal(p, rc).id}/events", {"kind": "setback"}), method="POST", kind="api"),
    Spec("GET /api/v1/care/high-risk", HIGH_RISK, _url("/api/v1/care/high-risk"), kind="api", site_scoped=False),
    Spec("GET /api/v1/care/rights-reports", FRONTLINE, _url("/api/v1/care/rights-reports"), kind="api",
         site_scoped=False),
    Spec("POST /api/v1/care/rights-reports", FRONTLINE, lambda p, rc: ("/api/v1/care/rights-reports", {
        "site": "NA1", "occurred_on": _today().isoformat(), "area": "XL/NORTH/N1", "violation_type": "violence",
        "perpetrator": "police"}), method="POST", kind="api"),
    Spec("GET /api/v1/care/rights-reports/{report_id}", ADMIN_ONLY,
         lambda p, rc: (f"/api/v1/care/rights-reports/{_report(p).id}", None), kind="api"),
    Spec("GET /api/v1/care/feedback", FEEDBACK, _url("/api/v1/care/feedback"), kind="api", site_scoped=False),
    Spec("GET /api/v1/care/feedback/responses", FEEDBACK, _url("/api/v1/care/feedback/responses"), kind="api",
         site_scoped=False),
    Spec("POST /api/v1/care/feedback/responses", FEEDBACK, _url("/api/v1/care/feedback/responses", {
        "site": "NA1", "you_said": "a", "we_did": "b"}), method="POST", kind="api"),
    Spec("GET /api/v1/care/summary", INDICATORS, _url("/api/v1/care/summary"), kind="api", site_scoped=False),
    Spec("GET /api/v1/care/rights-advocacy", ADMIN_ONLY, _url("/api/v1/care/rights-advocacy"), kind="api",
         site_scoped=False),
    Spec("POST /api/v1/care/language/check", FRONTLINE, _url("/api/v1/care/language/check", {"text": "addict"}),
         method="POST", kind="api", site_scoped=False),
]

