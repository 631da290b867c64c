"""Possible duplicates for coordinators: list, merge, dismiss."""

from __future__ import annotations

from django.urls import reverse

from salus.clients.models import Client
from salus.services.models import Contact

LIST = reverse("web-duplicates")


def pair(program, record_contact, site_b_for_second=False):
    a = record_contact(program.site_a, raw_uic="MAJO1985M").client
    b = record_contact(program.site_b if site_b_for_second else program.site_a, raw_uic="MAJO1986M").client
    return a, b


def test_it_lists_pairs_one_component_apart(program, login, record_contact):
    a, b = pair(program, record_contact)
    response = login(program.coordinator_a).get(LIST)
    rows = response.context["rows"]
    assert len(rows) == 1 and {rows[0]["a"].id, rows[0]["b"].id} == {a.id, b.id}
    assert "Year of birth" in str(rows[0]["differs"])


def test_it_leaves_out_pairs_with_a_record_outside_the_users_sites(program, login, record_contact):
    pair(program, record_contact, site_b_for_second=True)
    assert login(program.coordinator_a).get(LIST).context["rows"] == []


def test_it_merges(program, login, record_contact):
    a, b = pair(program, record_contact)
    response = login(program.coordinator_a).post(reverse("web-duplicate-merge"), {"keep": a.id, "other": b.id})
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.merged_into_id == a.id
    assert Contact.objects.filter(client=a).count() == 2


def test_it_dismisses(program, login, record_contact):
    a, b = pair(program, record_contact)
    c = login(program.coordinator_a)
    assert c.post(reverse("web-duplicate-dismiss"), {"keep": a.id, "other": b.id}).status_code == 302
    assert c.get(LIST).context["rows"] == []
    assert Client.objects.filter(merged_into__isnull=False).count() == 0


def test_it_refuses_merging_a_record_at_another_site(program, login, record_contact):
    a, b = pair(program, record_contact, site_b_for_second=True)
    response = login(program.coordinator_a).post(reverse("web-duplicate-merge"), {"keep": a.id, "other": b.id})
    assert response.status_code == 404
    b.refresh_from_db()
    assert b.merged_into_id is None


def test_it_refuses_workers(program, login, record_contact):
    a, b = pair(program, record_contact)
    c = login(program.worker_a)
    assert c.get(LIST).status_code == 403
    assert c.post(reverse("web-duplicate-merge"), {"keep": a.id, "other": b.id}).status_code == 403


def test_it_refuses_the_analyst(program, login):
    assert login(program.analyst).get(LIST).status_code == 403


def test_it_lets_the_manager_see_pairs_across_sites(program, login, record_contact):
    a, b = pair(program, record_contact, site_b_for_second=True)
    rows = login(program.manager).get(LIST).context["rows"]
    assert [{r["a"].id, r["b"].id} for r in rows] == [{a.id, b.id}]


def test_it_leads_an_old_link_of_a_merged_record_to_the_kept_one(program, login, record_contact):
    from django.urls import reverse

    from salus.clients.actions import do_merge_clients

    keep = record_contact(program.site_a, "MAJO1985M").client
    merged = record_contact(program.site_a, "MAJA1985M").client
    do_merge_clients("test", keep, merged)
    response = login(program.worker_a).get(reverse("web-client", args=[merged.id]))
    assert response.status_code == 302 and response["Location"] == reverse("web-client", args=[keep.id])


def test_it_does_not_lead_an_outsider_to_a_kept_record(program, login, record_contact):
    from django.urls import reverse

    from salus.clients.actions import do_merge_clients

    keep = record_contact(program.site_a, "MAJO1985M").client
    merged = record_contact(program.site_a, "MAJA1985M").client
    do_merge_clients("test", keep, merged)
    assert login(program.worker_b).get(reverse("web-client", args=[merged.id])).status_code == 404
