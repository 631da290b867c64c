"""Every kind of file Salus imports or exports, registered in one place.

``salus import KIND FILE`` and ``salus export KIND FILE`` offer exactly the kinds named here;
docs/import.md describes each one's columns.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Import kind -> module with COLUMNS, HELP, parse() and apply() (see salus.transfer.importing).
IMPORTERS: dict[str, str] = {
    "sites": "salus.transfer.importers.sites",
    "contacts": "salus.transfer.importers.contacts",
    "ost": "salus.transfer.importers.ost",
    "pse": "salus.transfer.importers.pse",
}

# Export kind -> module with COLUMNS, HELP and export(user, out, **filters).
EXPORTERS: dict[str, str] = {
    "contacts": "salus.transfer.exporters.contacts",
    "ost": "salus.transfer.exporters.ost",
}


def importer(kind: str) -> ModuleType:
    return importlib.import_module(IMPORTERS[kind])


def exporter(kind: str) -> ModuleType:
    return importlib.import_module(EXPORTERS[kind])
