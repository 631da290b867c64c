"""Finding a client by the parts of their UIC."""

from __future__ import annotations

import re

from django.core import signing
from django.urls import reverse
from web_helpers import UIC_PARTS

from salus.clients.models import Client
from salus.web.forms import UIC_TOKEN_SALT

URL = reverse("web-client-find")


def test_it_shows_one_input_per_recipe_component(program, login):
    response = login(program.worker_a).get(URL)
    assert response.status_code == 200
    for name in ("mother", "father", "birth_year", "sex"):
        assert f'name="{name}"' in response.content.decode()
    assert "First two letters of mother" in response.content.decode()


def test_it_goes_to_the_client_page_when_found_at_the_users_site(program, login, record_contact):
    contact = record_contact(program.site_a, raw_uic="MAJO1985M")
    response = login(program.worker_a).post(URL, UIC_PARTS)
    assert response.status_code == 302
    assert response["Location"] == reverse("web-client", args=[contact.client_id])


def test_it_normalises_the_parts_before_hashing(program, login, record_contact):
    contact = record_contact(program.site_a, raw_uic="MAJO1985M")
    parts = {"mother": " ma ", "father": "jo", "birth_year": "١٩٨٥", "sex": "m"}
    response = login(program.worker_a).post(URL, parts)
    assert response["Location"] == reverse("web-client", args=[contact.client_id])


def test_it_offers_registration_when_not_found(program, login):
    response = login(program.worker_a).post(URL, UIC_PARTS)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="token"' in body
    assert reverse("web-client-register") in body
    assert not Client.objects.exists()


def test_it_never_echoes_the_raw_code(program, login):
    response = login(program.worker_a).post(URL, {"mother": "QZ", "father": "XW", "birth_year": "1977", "sex": "F"})
    body = response.content.decode()
    for raw in ("QZ", "XW", "QZXW"):
        assert f'value="{raw}"' not in body and f">{raw}<" not in body
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    carried = signing.loads(token, salt=UIC_TOKEN_SALT)
    assert set(carried) == {"uic_hash", "neighbour_keys", "birth_year", "sex"}
    assert "QZ" not in str(carried) and "XW" not in str(carried)


def test_it_does_not_reveal_a_client_known_only_at_another_site(program, login, record_contact):
    record_contact(program.site_b, raw_uic="MAJO1985M")
    response = login(program.worker_a).post(URL, UIC_PARTS)
    assert response.status_code == 200
    assert 'name="token"' in response.content.decode()


def test_it_shows_translated_errors_inline(program, login):
    response = login(program.worker_a).post(URL, dict(UIC_PARTS, birth_year="19x5", sex="Q"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "must be digits" in body
    assert "must be one of F, M, T or X" in body


def test_it_refuses_the_analyst(program, login):
    assert login(program.analyst).get(URL).status_code == 403
    assert login(program.analyst).post(URL, UIC_PARTS).status_code == 403


def test_it_requires_log_in(client, program):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("web-login") in response["Location"]
