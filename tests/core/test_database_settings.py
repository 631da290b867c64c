"""The database settings made from the environment (salus.settings._databases)."""

from __future__ import annotations

from salus.settings import _databases


def test_sqlite_by_default_with_salus_backend(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    db = _databases()["default"]
    assert db["ENGINE"] == "salus.core.backends.sqlite3"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_postgresql_gets_salus_backend_with_prepared_statements(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example.org:5432/salus")
    monkeypatch.delenv("SALUS_PG_PREPARED", raising=False)
    db = _databases()["default"]
    assert db["ENGINE"] == "salus.core.backends.postgresql"
    assert db["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    # Kept open (their prepared statements with them), checked before reuse.
    assert db["CONN_MAX_AGE"] is None and db["CONN_HEALTH_CHECKS"] is True


def test_prepared_statements_can_be_turned_off_for_poolers(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example.org:5432/salus")
    monkeypatch.setenv("SALUS_PG_PREPARED", "False")
    db = _databases()["default"]
    assert db["OPTIONS"]["prepare_threshold"] is None
    assert db["OPTIONS"]["server_side_binding"] is True
