"""The bulk import's UIC hashing gives exactly the values of salus.clients.uic."""

from hypothesis import given, settings
from hypothesis import strategies as st

from salus.clients import uic
from salus.transfer.uichash import hasher

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
