"""The bulk import's UIC hashing gives exactly the values of salus.clients.uic."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.clients import uic
from salus.transfer.uichash import ascii_parts, hasher

letters = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖЖДМ", min_size=2, max_size=2)


@settings(max_examples=60, deadline=None)
@given(letters, letters, st.integers(1930, 2010), st.sampled_from("FMTX"))
def test_it_matches_the_registry_hashes(mother, father, year, sex):
    raw = f"{mother}{father}{year}{sex}"
    expected = uic.hash_raw(raw)
    got = hasher()(raw)
    assert got.uic_hash == expected.uic_hash
    assert got.neighbour_keys == expected.neighbour_keys
    assert (got.birth_year, got.sex) == (expected.birth_year, expected.sex)


# Codes as people type them into spreadsheets: mostly right, with separators, spaces, lower case,
# a digit for a letter, a letter for a digit, one character too many or too few.
ascii_code = st.lists(
    st.sampled_from([*"ABMOJXFTabmojxft0123456789", " ", "-", "_", "/", ".", "\t", "\x1f", "*", "é", "٣"]),
    min_size=6, max_size=12,
).map("".join)


def outcome(fn, raw):
    """(values, None) or (None, message) for a hashing function."""
    try:
        h = fn(raw)
    except uic.InvalidUIC as exc:
        return None, str(exc)
    return (h.uic_hash, tuple(h.neighbour_keys), h.birth_year, h.sex), None


@settings(max_examples=300, deadline=None)
@given(st.one_of(ascii_code, st.from_regex(r"[A-Za-z]{2}[ -]?[A-Za-z]{2}[ ._/-]?[0-9]{4} ?[FMTXfmtx]", fullmatch=True)))
def test_the_ascii_path_gives_the_registry_values_and_errors(raw):
    assert outcome(hasher(), raw) == outcome(uic.hash_raw, raw)


RECIPE = (
    uic.Component("initials", "Initials", "letters", 3),
    uic.Component("birth_year", "Year", "digits", 4),
    uic.Component("day", "Day", "digits", 2),
    uic.Component("sex", "Sex", "sex", 1),
)


@pytest.mark.parametrize("raw", [
    "ABC1990 07M", "abc-1990-07-f", "AB1990 07M", "ABC199007MM", "ABC19900XM", "A1C199007M", "ABC199007Q",
    "ÄBC199007M", "ABC١٩٩٠07M", "", "   ", "abc\t1990\n07x",
])
def test_the_ascii_path_follows_any_recipe(raw):
    try:
        expected = uic.canonical(uic.parts_from_raw(raw, RECIPE), RECIPE)
    except uic.InvalidUIC:
        expected = None
    # ASCII codes take the quick path when valid (None otherwise); others always the slow one.
    assert ascii_parts(raw, RECIPE) == (expected if raw.isascii() else None)
