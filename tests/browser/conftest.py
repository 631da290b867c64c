"""Real-browser fixtures: Playwright (sync API) driving Debian's chromium against live_server.

Use them from any ``tests/browser/test_*.py``::

    @pytest.mark.browser
    def test_it_does_something(page, live_server, program, log_in):
        log_in(program.worker_a)
        page.goto(live_server.url + "/clients/find/")

``page`` is a fresh browser context (cookies, language) per test at a phone's width; the browser
itself is started once per test session. Without /usr/bin/chromium the tests are skipped,
unless CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is intended.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
# A small phone: the layout must work at this width.
PHONE = {"width": 360, "height": 780}
# The personas' password, as set by the ``program`` fixture in tests/conftest.py.
PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; the browser tests must run in CI")
        pytest.skip(f"{CHROMIUM} is not installed (apt install chromium) so real-browser tests cannot run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, transactional_db):
    """A new page in a fresh context (no cookies) at a 360 px phone width."""
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def log_in(page, live_server):
    """Log ``user`` in through the real log-in form; the page is left on the home page."""

    def _log_in(user, password: str = PASSWORD):
        page.goto(live_server.url + "/security/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("main button[type=submit]")
        page.wait_for_load_state("load")
        return page

    return _log_in


@pytest.fixture
def screenshot_dir() -> Path:
    """Where tests may save screenshots for a person to look at ($SALUS_SCREENSHOTS or /tmp)."""
    path = Path(os.environ.get("SALUS_SCREENSHOTS", "/tmp/salus-screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path
