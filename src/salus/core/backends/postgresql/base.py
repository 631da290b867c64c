"""Django's PostgreSQL backend, with audit events chained when a write commits
(``salus.core.backends.chain``). ``DATABASE_URL=postgres://...`` selects it."""

from __future__ import annotations

from django.db.backends.postgresql import base

from salus.core.backends.chain import ChainAtCommit


class DatabaseWrapper(ChainAtCommit, base.DatabaseWrapper):
    pass
