"""Unique identifier codes (UIC): the recipe, normalisation and keyed hashing.

A UIC is built from facts a client knows and can repeat at any site, none of which identifies
them alone. The program chooses the recipe (``uic_recipe`` in salus.core.config); the default
is: first two letters of the mother's first name, first two letters of the father's first
name, the four-digit birth year and the sex code, e.g. ``MAJO1985M``.

The raw code is never stored. Salus keeps:

- ``HMAC-SHA256(uic_key, canonical code)``: finds the client again;
- one "neighbour key" per component: the HMAC of the code with that component blanked out.
  Two codes that differ in exactly one component (the commonest typo) share that neighbour key,
  so possible duplicates are found by an index lookup, still without any raw code.

Without the UIC key (kept outside the database), a stolen database cannot be matched against
guessed codes.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salus.core import keys

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Component:
    """One part of the UIC recipe. ``kind`` is ``letters``, ``digits`` or ``sex``."""

    name: str
    label: StrOrPromise  # the default recipe's labels are translated when shown
    kind: str
    length: int


DEFAULT_RECIPE: tuple[Component, ...] = (
    Component("mother", gettext_lazy("First two letters of mother's first name"), "letters", 2),
    Component("father", gettext_lazy("First two letters of father's first name"), "letters", 2),
    Component("birth_year", gettext_lazy("Year of birth (four digits)"), "digits", 4),
    Component("sex", gettext_lazy("Sex code (F, M, T or X)"), "sex", 1),
)

SEX_CODES = ("F", "M", "T", "X")


class InvalidUIC(ValueError):
    """The code does not fit the recipe; ``str()`` is a translated message for the user."""


def normalise_part(value: str, component: Component) -> str:
    """Return the canonical form of one component, or raise InvalidUIC.

    Letters are NFKC-normalised and upper-cased (so Latin, Arabic, Cyrillic and Han letters all
    work); Eastern Arabic and Persian digits are read as digits.
    """
    v = unicodedata.normalize("NFKC", value or "").strip().upper()
    v = "".join(ch for ch in v if not ch.isspace())
    if component.kind == "digits":
        try:
            v = "".join(str(unicodedata.digit(ch)) for ch in v)
        except (TypeError, ValueError):
            raise InvalidUIC(_("%(part)s must be digits.") % {"part": component.label}) from None
    elif component.kind == "sex":
        if v not in SEX_CODES:
            raise InvalidUIC(_("%(part)s must be one of F, M, T or X.") % {"part": component.label})
    elif component.kind == "letters":
        if not all(ch.isalpha() for ch in v):
            raise InvalidUIC(_("%(part)s must be letters.") % {"part": component.label})
    if len(v) != component.length:
        raise InvalidUIC(
            _("%(part)s must have %(n)d characters.") % {"part": component.label, "n": component.length}
        )
    return v


def recipe() -> tuple[Component, ...]:
    from salus.core.config import program_config

    return program_config().uic_recipe


def parts_from_raw(raw: str, components: tuple[Component, ...] | None = None) -> dict[str, str]:
    """Split a raw code written as one string (CSV, API) into its components by their lengths."""
    components = components or recipe()
    s = unicodedata.normalize("NFKC", raw or "").strip()
    s = "".join(ch for ch in s if not ch.isspace() and ch not in "-_/.")
    expected = sum(c.length for c in components)
    if len(s) != expected:
        raise InvalidUIC(
            _("The code must have %(n)d characters; this one has %(m)d.") % {"n": expected, "m": len(s)}
        )
    parts, i = {}, 0
    for c in components:
        parts[c.name] = s[i : i + c.length]
        i += c.length
    return parts


def canonical(parts: dict[str, str], components: tuple[Component, ...] | None = None) -> list[str]:
    """Return the normalised components, in recipe order."""
    components = components or recipe()
    return [normalise_part(parts.get(c.name, ""), c) for c in components]


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class UICHashes:
    """What Salus stores for a code: its hash and one neighbour key per component."""

    uic_hash: str
    neighbour_keys: tuple[str, ...]
    birth_year: int | None
    sex: str | None


def hash_parts(canonical_parts: list[str], components: tuple[Component, ...] | None = None) -> UICHashes:
    components = components or recipe()
    key = keys.uic_key()
    # The unit separator cannot occur in a normalised part, so "AB"+"C" and "A"+"BC" differ.
    joined = "\x1f".join(canonical_parts)
    neighbours = []
    for i in range(len(canonical_parts)):
        masked = canonical_parts[:i] + ["*"] + canonical_parts[i + 1 :]
        neighbours.append(_mac(key, f"{i}\x1e" + "\x1f".join(masked)))
    birth_year = sex = None
    for c, v in zip(components, canonical_parts, strict=True):
        if c.name == "birth_year" and c.kind == "digits":
            birth_year = int(v)
        if c.kind == "sex":
            sex = v
    return UICHashes(_mac(key, joined), tuple(neighbours), birth_year, sex)


def hash_raw(raw: str) -> UICHashes:
    """Hash a raw code given as one string; raise InvalidUIC if it does not fit the recipe."""
    comps = recipe()
    return hash_parts(canonical(parts_from_raw(raw, comps), comps), comps)
