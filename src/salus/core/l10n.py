"""Locale digits: Persian and Eastern Arabic numerals where the language uses them.

Django formats dates and numbers per locale but always writes ASCII digits. Farsi is written
with Persian digits (۰۱۲۳۴۵۶۷۸۹) and most Arabic-speaking countries of the Middle East use
Eastern Arabic digits (٠١٢٣٤٥٦٧٨٩). :class:`LocalDigitsMiddleware` rewrites the digits of an
HTML page's *text* (never tags, attributes, entities, scripts, styles or form fields, nor codes
that mix Latin letters and digits), so values sent back by forms and links stay ASCII. A program in the Maghreb, where Arabic is
written with Western digits, sets ``western_digits_for = ["ar"]`` in program.toml.
"""

from __future__ import annotations

import re

from django.utils import translation

DIGITS = {
    "fa": "۰۱۲۳۴۵۶۷۸۹",
    "ar": "٠١٢٣٤٥٦٧٨٩",
}

_TABLES = {lang: str.maketrans("0123456789", d) for lang, d in DIGITS.items()}
# Tags, and the raw-text elements whose content is not prose.
_TOKEN = re.compile(
    r"(<(script|style|textarea|pre|code)\b[^>]*>.*?</\2\s*>|<!--.*?-->|<[^>]*>)",
    re.IGNORECASE | re.DOTALL,
)
# An entity, or a run of ASCII letters and digits holding a digit. Runs that hold a Latin letter
# are codes (site "NA1", client reference "5BACD6F0", area "N1") and keep their digits, so
# that they read the same on every screen and in every language.
_ENTITY_OR_TOKEN = re.compile(r"&#?\w+;|[A-Za-z0-9]*[0-9][A-Za-z0-9]*")
_LATIN = re.compile(r"[A-Za-z]")


def digits_language(lang: str | None) -> str | None:
    """The language whose digits to use for ``lang``, or None for ASCII digits."""
    if not lang:
        return None
    base = lang.split("-")[0].lower()
    if base not in DIGITS:
        return None
    from salus.core.config import program_config

    if base in getattr(program_config(), "western_digits_for", ()):
        return None
    return base


def localise_digits(text: str, lang: str | None) -> str:
    """``text`` with ASCII digits replaced by ``lang``'s digits (plain text, not HTML)."""
    base = digits_language(lang)
    return text.translate(_TABLES[base]) if base else text


def localise_html_digits(html: str, lang: str) -> str:
    """Replace digits in the text nodes of ``html`` only."""
    table = _TABLES[lang]

    def text_part(segment: str) -> str:
        def swap(m: re.Match) -> str:
            token = m.group(0)
            return token if token.startswith("&") or _LATIN.search(token) else token.translate(table)

        return _ENTITY_OR_TOKEN.sub(swap, segment)

    out = []
    pos = 0
    for m in _TOKEN.finditer(html):
        out.append(text_part(html[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(text_part(html[pos:]))
    return "".join(out)


class LocalDigitsMiddleware:
    """Rewrite the digits of HTML pages for languages written with their own numerals."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        lang = digits_language(translation.get_language())
        if (
            lang
            and not getattr(response, "streaming", False)
            and response.get("Content-Type", "").startswith("text/html")
            and not response.has_header("Content-Disposition")
        ):
            charset = response.charset or "utf-8"
            response.content = localise_html_digits(response.content.decode(charset), lang).encode(charset)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
