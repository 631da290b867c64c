"""The access layer: scoping by site, compartments, analysts see no individual record."""

import pytest
from django.core.exceptions import PermissionDenied

from salus.core import access


def test_it_scopes_clients_to_the_users_sites(program, record_contact):
    a = record_contact(program.site_a, "MAJO1985M").client
    b = record_contact(program.site_b, "FATI1990F").client
    assert set(access.clients(program.worker_a)) == {a}
    assert set(access.clients(program.worker_b)) == {b}
    assert set(access.clients(program.manager)) == {a, b}


def test_it_hides_another_sites_client_as_not_found(program, record_contact):
    b = record_contact(program.site_b, "FATI1990F").client
    with pytest.raises(access.NotVisible):
        access.get_client_for_user(program.worker_a, b.id)


def test_it_treats_a_malformed_id_as_not_found(program):
    with pytest.raises(access.NotVisible):
        access.get_client_for_user(program.worker_a, "not-a-uuid")


def test_it_hides_contacts_at_other_sites_even_for_a_shared_client(program, record_contact):
    record_contact(program.site_a, "MAJO1985M")
    other = record_contact(program.site_b, "MAJO1985M")
    assert other.client in access.clients(program.worker_a)
    assert other not in access.contacts(program.worker_a)


def test_it_gives_analysts_no_individual_record(program, record_contact):
    record_contact(program.site_a)
    for query in (access.clients, access.contacts, access.referrals, access.ost_episodes, access.overdoses):
        with pytest.raises(PermissionDenied):
            query(program.analyst)


def test_it_keeps_clinical_results_from_workers(program):
    assert not access.can(program.worker_a, "clinical.view")
    assert access.can(program.worker_a, "clinical.record")
    assert access.can(program.clinician_a, "clinical.view")


def test_it_needs_the_focal_person_grant_for_rights_reports(program):
    assert not access.can(program.coordinator_a, "rights.view")
    program.coordinator_a.rights_focal_person = True
    assert access.can(program.coordinator_a, "rights.view")
    assert not access.can(program.worker_a, "rights.view")


def test_it_refuses_writes_at_another_site(program):
    with pytest.raises(PermissionDenied):
        access.check_site(program.worker_a, program.site_b, "contact.record")
    access.check_site(program.worker_a, program.site_a, "contact.record")
