"""Possible duplicates and merging, without any raw UIC stored."""

import pytest

from salus.clients.actions import (
    MergeError,
    do_dismiss_duplicate,
    do_merge_clients,
    possible_duplicates,
)
from salus.clients.models import Client


def test_it_finds_a_one_component_typo_as_a_possible_duplicate(program, record_contact):
    a = record_contact(program.site_a, "MAJO1985M").client
    b = record_contact(program.site_a, "MAJA1985M").client
    record_contact(program.site_a, "ZZYY1970F")
    pairs = {(x.id, y.id) for x, y, _pos in possible_duplicates()}
    assert pairs == {tuple(sorted((a.id, b.id), key=str))}


def test_it_moves_every_record_when_merging(program, record_contact):
    keep = record_contact(program.site_a, "MAJO1985M").client
    dup_contact = record_contact(program.site_b, "MAJA1985M")
    merged = dup_contact.client
    do_merge_clients("test", keep, merged)
    merged.refresh_from_db()
    dup_contact.refresh_from_db()
    assert merged.merged_into_id == keep.id
    assert dup_contact.client_id == keep.id
    assert set(keep.site_links.values_list("site__code", flat=True)) == {"NA1", "SB1"}
    assert possible_duplicates() == []


def test_it_finds_the_kept_record_when_the_mistyped_code_is_given_again(program, record_contact):
    keep = record_contact(program.site_a, "MAJO1985M").client
    merged = record_contact(program.site_a, "MAJA1985M").client
    do_merge_clients("test", keep, merged)
    again = record_contact(program.site_a, "MAJA1985M")
    assert again.client_id == keep.id
    assert Client.objects.filter(merged_into__isnull=True).count() == 1


def test_it_refuses_to_merge_a_record_into_itself(program, record_contact):
    c = record_contact(program.site_a).client
    with pytest.raises(MergeError):
        do_merge_clients("test", c, c)


def test_it_leaves_out_dismissed_pairs(program, record_contact):
    a = record_contact(program.site_a, "MAJO1985M").client
    b = record_contact(program.site_a, "MAJA1985M").client
    do_dismiss_duplicate("test", a, b)
    assert possible_duplicates() == []
