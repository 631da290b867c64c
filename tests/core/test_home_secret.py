"""The secrets Salus makes in its data directory on first use (settings._home_secret)."""

from __future__ import annotations

import stat
from pathlib import Path

from salus import settings


def test_a_secret_is_made_once_owner_only_and_then_read(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "SALUS_HOME", tmp_path)
    first = settings._home_secret("a-secret")
    assert len(first) > 40
    assert settings._home_secret("a-secret") == first
    assert stat.S_IMODE((tmp_path / "a-secret").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a-secret"]  # nothing else left behind


def test_a_process_that_loses_the_race_reads_the_winners_secret(tmp_path, monkeypatch):
    """Two processes starting on a new data directory at once: both see no file, one
    writes it first; the other must take that one, not fail or write its own."""
    monkeypatch.setattr(settings, "SALUS_HOME", tmp_path)
    winner = settings._home_secret("a-secret")
    monkeypatch.setattr(Path, "exists", lambda self: False)  # it looked before the winner wrote
    assert settings._home_secret("a-secret") == winner
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-secret"]
