"""Persian and Eastern Arabic digits in page text, never in markup or form values."""

from salus.core.l10n import localise_digits, localise_html_digits


def test_it_writes_persian_digits_in_text():
    assert localise_html_digits("<p>Clients: 1402</p>", "fa") == "<p>Clients: ۱۴۰۲</p>"


def test_it_writes_eastern_arabic_digits_in_text():
    assert localise_html_digits("<td>25%</td>", "ar") == "<td>٢٥%</td>"


def test_it_leaves_attributes_entities_scripts_and_fields_alone():
    html = (
        '<a href="/c/12/?p=3" data-n="4">5 &#39;x&#39; &amp;</a>'
        '<script src="/s.js">var a = 1;</script><textarea name="n">77</textarea>'
        '<input value="2025"><style>.a{width:10px}</style>'
    )
    out = localise_html_digits(html, "fa")
    assert '<a href="/c/12/?p=3" data-n="4">۵ &#39;x&#39; &amp;</a>' in out
    assert "var a = 1;" in out and ">77</textarea>" in out and 'value="2025"' in out and "10px" in out


def test_it_keeps_codes_that_mix_letters_and_digits():
    out = localise_html_digits("<p>NA1 · 5BACD6F0 · XL/NORTH/N1 · 2026-11-25</p>", "ar")
    assert out == "<p>NA1 · 5BACD6F0 · XL/NORTH/N1 · ٢٠٢٦-١١-٢٥</p>"


def test_it_keeps_ascii_digits_for_other_languages():
    assert localise_digits("2025", "ru") == "2025"
    assert localise_digits("2025", "zh-hans") == "2025"
    assert localise_digits("2025", "fa") == "۲۰۲۵"


def test_it_serves_persian_digits_on_a_farsi_page(client, program):
    client.force_login(program.worker_a)
    client.cookies["django_language"] = "fa"
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert 'lang="fa"' in body
    text_only = body.split("<body", 1)[1]
    assert any(ch in text_only for ch in "۰۱۲۳۴۵۶۷۸۹"), "a Farsi page should show Persian digits"
