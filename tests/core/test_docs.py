"""Reference pages generated from code stay in step with it."""

import importlib.util
from pathlib import Path

import pytest

from salus.core.roles import CAPABILITIES, ROLE_CAPABILITIES

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
gen_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen_docs)


@pytest.mark.parametrize("page", sorted(gen_docs.PAGES))
def test_it_keeps_generated_pages_up_to_date(page):
    expected = gen_docs.PAGES[page]()
    assert (ROOT / page).read_text() == expected, f"{page} is out of date: run python scripts/gen_docs.py"


def test_every_role_names_only_described_capabilities():
    for role, caps in ROLE_CAPABILITIES.items():
        assert caps <= set(CAPABILITIES), f"{role} names undescribed capabilities {caps - set(CAPABILITIES)}"


def test_analysts_hold_no_individual_record_capability():
    individual = {"client.view", "contact.view", "contact.record", "clinical.view", "export.individual", "rights.view"}
    assert not ROLE_CAPABILITIES["analyst"] & individual
