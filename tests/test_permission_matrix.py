"""The permission matrix: every route × every persona, from the specs in tests/*/permission_specs.py.

1. Coverage: every named web route (Django's URL resolver, without admin/, static files and the
   language switch) and every API operation (the OpenAPI schema) must be covered by a Spec.
   A new view or endpoint without one fails here, naming the route.
2. For each spec and persona: allowed roles get an ok status; other roles get 403 or 404;
   anonymous users are sent to log in (web) or get 401 (API); for site-scoped specs, worker_b
   (site B only) is refused although the role is allowed.
3. Every HTML page served to an allowed persona obeys the Content-Security-Policy: no inline
   <script> and no style attributes or <style> blocks.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

TESTS = Path(__file__).resolve().parent
PERSONAS = ("worker_a", "worker_b", "coordinator_a", "clinician_a", "manager", "analyst", "admin", "anonymous")
ROLE_OF = {
    "worker_a": "worker", "worker_b": "worker", "coordinator_a": "coordinator", "clinician_a": "clinician",
    "manager": "manager", "analyst": "analyst", "admin": "admin", "anonymous": None,
}
REFUSED = {403, 404}
# Routes that no spec needs: Django's own admin, static files, the language switch.
SKIPPED_PREFIXES = ("admin/", "static/", "i18n/")
SKIPPED_NAMES = {"set_language", "javascript-catalog"}


def load_specs() -> list:
    """Every SPECS list from tests/*/permission_specs.py, in a stable order."""
    # Spec modules import ``permission`` or ``tests.permission``: both must resolve however
    # pytest was started.
    for entry in (str(TESTS), str(TESTS.parent)):
        if entry not in sys.path:
            sys.path.append(entry)
    specs = []
    for path in sorted(TESTS.glob("*/permission_specs.py")):
        name = f"permission_specs_{path.parent.name}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        for spec in module.SPECS:
            spec._origin = path.parent.name
            specs.append(spec)
    return specs


def web_routes() -> dict[str, str]:
    """{route key: pattern}: the URL name, or the pattern itself for an unnamed route."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str | None):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                if ns and ns.startswith("api"):
                    continue  # the API is covered through its OpenAPI schema
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                full = prefix + str(p.pattern)
                if full.startswith(SKIPPED_PREFIXES) or p.name in SKIPPED_NAMES:
                    continue
                if full.lstrip("^").startswith(settings.STATIC_URL.lstrip("/")):
                    continue
                found[p.name or full] = full

    walk(get_resolver().url_patterns, "", None)
    return found


def api_routes() -> set[str]:
    """"METHOD /api/v1/path/{param}" for every operation in the API's OpenAPI schema."""
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200, "the OpenAPI schema must be served at /api/v1/openapi.json"
    schema = json.loads(response.content)
    methods = {"get", "post", "put", "patch", "delete"}
    return {f"{m.upper()} {path}" for path, ops in schema.get("paths", {}).items() for m in ops if m in methods}


def spec_key(spec) -> str:
    return spec.route


SPECS = load_specs()


def test_it_has_a_spec_for_every_route():
    covered = {spec_key(s) for s in SPECS}
    web = web_routes()
    missing_web = sorted(f"web {name} ({pattern})" for name, pattern in web.items() if name not in covered)
    missing_api = sorted(f"api {route}" for route in api_routes() if route not in covered)
    missing = missing_web + missing_api
    assert not missing, "routes without a permission spec (add a Spec in tests/<app>/permission_specs.py):\n  " + "\n  ".join(missing)


def test_it_has_no_spec_for_a_route_that_does_not_exist():
    known = set(web_routes()) | api_routes()
    stale = sorted({s.route for s in SPECS} - known)
    assert not stale, f"specs for routes that do not exist: {stale}"


def _cases():
    for spec in SPECS:
        for persona in PERSONAS:
            yield pytest.param(spec, persona, id=f"{spec.method} {spec.route} as {persona}")


def expectation(spec, persona: str) -> str:
    """"ok", "refused" or "login" for this persona on this spec."""
    role = ROLE_OF[persona]
    if role is None:
        return "ok" if spec.public else "login"
    if role not in spec.allowed:
        return "refused"
    if spec.site_scoped and persona == "worker_b":
        return "refused"
    return "ok"


class _InlineFinder(HTMLParser):
    """Collects what a strict CSP (script-src 'self'; style-src 'self') would block."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {k.lower(): v for k, v in attrs}
        if "style" in names:
            self.problems.append(f"style attribute on <{tag}>")
        for attr in names:
            if attr.startswith("on"):
                self.problems.append(f"inline event handler {attr} on <{tag}>")
        if tag == "style":
            self.problems.append("<style> block")
        if tag == "script":
            kind = (names.get("type") or "").lower()
            data_only = kind in ("application/json", "application/ld+json", "text/template")
            if not names.get("src") and not data_only:
                self._in_script = True
        for attr in ("href", "src", "action"):
            if (names.get(attr) or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in <{tag} {attr}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline <script> without src")
            self._in_script = False


def csp_problems(html: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(html)
    return finder.problems


def _request(spec, persona, program, record_contact):
    url, data = spec.build(program, record_contact)
    client = Client()
    headers = {}
    user = None if persona == "anonymous" else getattr(program, persona)
    if spec.kind == "api":
        if user is not None:
            from salus.core.actions import do_create_api_token

            _row, token = do_create_api_token("test", user, "matrix")
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        body = json.dumps(data) if data is not None else ""
        return client.generic(spec.method, url, body, content_type="application/json", **headers)
    if user is not None:
        client.force_login(user)
    if spec.method == "GET":
        return client.get(url, data or {})
    return client.generic(spec.method, url, _form_body(data), content_type="application/x-www-form-urlencoded")


def _form_body(data) -> str:
    from urllib.parse import urlencode

    return urlencode(data or {}, doseq=True)


@pytest.mark.parametrize(("spec", "persona"), list(_cases()))
def test_it_enforces_the_matrix(spec, persona, program, record_contact):
    response = _request(spec, persona, program, record_contact)
    expected = expectation(spec, persona)
    status = response.status_code
    where = f"{spec.method} {spec.route} as {persona}: got {status}"
    login_url = resolve_url(settings.LOGIN_URL)
    location = response.get("Location", "")
    if expected == "ok":
        assert status in spec.ok_statuses, f"{where}, expected one of {sorted(spec.ok_statuses)}"
        # (A POST may end the session on purpose: "lock now".)
        if persona != "anonymous" and status in (301, 302) and spec.method == "GET":
            assert not location.startswith(login_url), f"{where}: an allowed user was sent to log in"
        # A download (Content-Disposition: attachment) is saved, not shown in the app's pages.
        downloaded = response.get("Content-Disposition", "").startswith("attachment")
        if status == 200 and response.get("Content-Type", "").startswith("text/html") and not downloaded:
            problems = csp_problems(response.content.decode())
            assert not problems, f"{where}: the page breaks the CSP: {sorted(set(problems))}"
    elif expected == "refused":
        assert status in REFUSED, f"{where}, expected 403 or 404"
    elif spec.kind == "api":
        assert status == 401, f"{where}, expected 401 for an anonymous API call"
    else:
        assert status == 302 and location.startswith(login_url), (
            f"{where} (to {location!r}), expected a redirect to the log-in page"
        )


def test_it_finds_inline_script_and_style():
    """The CSP check itself must catch what it claims to."""
    assert csp_problems('<p style="color:red">x</p>') == ["style attribute on <p>"]
    assert csp_problems("<script>alert(1)</script>") == ["inline <script> without src"]
    assert csp_problems('<button onclick="go()">x</button>') == ["inline event handler onclick on <button>"]
    assert csp_problems("<style>p{}</style>") == ["<style> block"]
    assert csp_problems('<script src="/static/salus/app.js"></script><p class="x">ok</p>') == []
