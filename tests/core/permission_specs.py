"""Permission specs for the security routes (log-in, second factor, lock, audit log)."""

from permission import EVERY_ROLE, Spec


def _plain(url):
    return lambda program, record_contact: (url, None)


SPECS = [
    # Open to everyone; a logged-in user is sent on to the home page.
    Spec("web-login", EVERY_ROLE, _plain("/security/login/"), public=True, site_scoped=False),
    # The code step of the log-in: without a pending log-in it sends back to the log-in page.
    Spec("security-totp-verify", EVERY_ROLE, _plain("/security/login/code/"), public=True, site_scoped=False),
    Spec("web-lock", EVERY_ROLE, lambda program, record_contact: ("/security/lock/", {}), method="POST", site_scoped=False),
    Spec("security-totp-setup", EVERY_ROLE, _plain("/security/two-step/"), site_scoped=False),
    Spec(
        "security-audit-log", frozenset({"coordinator", "manager", "admin"}),
        _plain("/security/audit/?action=contact"), site_scoped=False,
    ),
]
