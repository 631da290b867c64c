"""Bearer tokens, the OpenAPI schema, and the error shape of refusals."""

import json

import pytest

from salus.core.actions import do_create_api_token, do_revoke_api_token
from salus.core.models import ApiToken


def _detail(response):
    body = json.loads(response.content)
    assert set(body) == {"detail"}
    return body["detail"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer sal_not-a-real-token", "Token abc", "Basic dXNlcjpwYXNz"])
def test_it_answers_401_json_without_a_valid_token(api, program, header):
    headers = {"HTTP_AUTHORIZATION": header} if header else {}
    response = api.get("/contacts", headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    (item,) = _detail(response)
    assert item["field"] is None and item["message"]


def test_it_refuses_a_revoked_token(api, program):
    row, token = do_create_api_token("test", program.worker_a, "phone")
    assert api.get("/contacts", token=token).status_code == 200
    do_revoke_api_token("test", row)
    assert api.get("/contacts", token=token).status_code == 401


def test_it_refuses_the_token_of_a_deactivated_user(api, program):
    _row, token = do_create_api_token("test", program.worker_a, "phone")
    program.worker_a.is_active = False
    program.worker_a.save(update_fields=["is_active"])
    assert api.get("/sites", token=token).status_code == 401


def test_it_records_when_a_token_was_last_used(api, program):
    row, token = do_create_api_token("test", program.worker_a, "phone")
    assert row.last_used_at is None
    api.get("/sites", token=token)
    assert ApiToken.objects.get(pk=row.pk).last_used_at is not None


def test_it_serves_the_openapi_schema_without_the_cdn_docs_page(api, db):
    response = api.get("/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert "/api/v1/contacts" in schema["paths"]
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert api.get("/docs").status_code == 404


def test_it_puts_no_sequential_number_in_any_path(api, db):
    schema = json.loads(api.get("/openapi.json").content)
    for path, ops in schema["paths"].items():
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    assert param["schema"].get("format") == "uuid", (path, param["name"])


def test_it_gives_a_role_refusal_as_403_json(api, program):
    response = api.get("/contacts", as_="analyst")
    assert response.status_code == 403
    (item,) = _detail(response)
    assert item["field"] is None


def test_it_answers_malformed_json_with_400_json(api, program):
    response = api.post("/contacts", as_="worker_a", raw=b"{not json")
    assert response.status_code == 400
    assert _detail(response)[0]["message"]


def test_it_answers_an_unexpected_failure_with_500_json_and_logs_no_query(api, program, monkeypatch, caplog):
    from salus.api import sites

    def broken(site):
        raise RuntimeError("boom")

    monkeypatch.setattr(sites, "serialise_site", broken)
    response = api.get("/sites?site=NA1&secret=MAJO1985M", as_="worker_a")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert _detail(response)[0]["message"]
    assert b"Traceback" not in response.content and b"boom" not in response.content
    assert "RuntimeError" in caplog.text
    assert "MAJO1985M" not in caplog.text


def test_it_writes_messages_in_the_language_the_request_asks_for(api, program, monkeypatch):
    from django.utils import translation

    from salus.api import errors

    # Tag each message with the language active when it is made: messages must be made per
    # request, in the request's language, not once at import time.
    monkeypatch.setattr(errors, "_", lambda text: f"[{translation.get_language()}] {text}")
    response = api.get("/contacts?limit=x", as_="worker_a", headers={"HTTP_ACCEPT_LANGUAGE": "ru"})
    assert response.status_code == 422
    assert _detail(response)[0]["message"].startswith("[ru] ")
    assert response["Content-Language"] == "ru"
    response = api.get("/contacts?limit=x", as_="worker_a", headers={"HTTP_ACCEPT_LANGUAGE": "fa"})
    assert _detail(response)[0]["message"].startswith("[fa] ")
