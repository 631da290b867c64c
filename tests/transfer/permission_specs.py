"""Routes of the transfer package: none. Imports and exports run from the command line
(``salus import`` / ``salus export``), where the actor is checked by name and role."""

from tests.permission import Spec

SPECS: list[Spec] = []
