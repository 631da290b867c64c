"""The respectful-language checker, and the whole product checked with it."""

from __future__ import annotations

from pathlib import Path

import pytest

import salus
from salus.care import language

PRODUCT = Path(salus.__file__).resolve().parent
REPO = PRODUCT.parent.parent
# Files that quote the terms on purpose: the checker's data and its documentation.
ALLOWED = {
    PRODUCT / "care" / "language_terms.json",
    REPO / "docs" / "care" / "language.md",
}


@pytest.mark.parametrize(("text", "term", "suggests"), [
    ("He is an addict.", "en-addict", "person who uses drugs"),
    ("Former addicts came by", "en-addict", "person who uses drugs"),
    ("a junkie", "en-slang", "person who uses drugs"),
    ("history of drug abuse", "en-abuse", "drug use"),
    ("Substance abusers", "en-abuser", "person who uses drugs"),
    ("gave 10 clean needles", "en-clean-equipment", "sterile needles"),
    ("returned dirty syringes", "en-dirty-equipment", "used syringes"),
    ("the room was cleaned", None, None),
    ("tested clean last week", "en-clean-test", "tested negative"),
    ("has been clean for a month", "en-clean-person", "not using drugs"),
    ("IDUs and their partners", "en-drug-user", "people who inject drugs"),
    ("he relapsed", "en-relapse", "return to use"),
    ("هو مدمن", "ar-addict", "شخص يتعاطى المخدرات"),
    ("المدمنين في الحي", "ar-addict", "شخص يتعاطى المخدرات"),
    ("سوء استخدام المخدرات", "ar-abuse", "تعاطي المخدرات"),
    ("وزعنا حقن نظيفة", "ar-clean-equipment", "حقن معقمة"),
    ("الإبر القذرة", "ar-dirty-equipment", "حقن مستعملة"),
    ("او معتاد است", "fa-addict", "فردی که مواد مصرف می‌کند"),
    ("معتادان تزریقی", "fa-addict", "فرد مصرف‌کننده مواد"),
    ("سوء مصرف مواد", "fa-abuse", "مصرف مواد"),
    ("سرنگ تمیز دادیم", "fa-clean-equipment", "سرنگ استریل"),
    ("Он наркоман.", "ru-addict", "человек, употребляющий наркотики"),
    ("помощь наркоманам", "ru-addict", "люди, употребляющие наркотики"),
    ("злоупотребление наркотиками", "ru-abuse", "употребление наркотиков"),
    ("выдали чистые шприцы", "ru-clean-equipment", "стерильные шприцы"),
    ("вернул грязные иглы", "ru-dirty-equipment", "использованные иглы"),
    ("他是瘾君子。", "zh-addict", "使用毒品的人"),
    ("发放干净的针具", "zh-clean-equipment", "无菌针具"),
    ("有药物滥用史", "zh-abuse", "药物使用"),
    ("社区吸毒人员", "zh-drug-user", "使用毒品的人"),
])
def test_it_finds_stigmatising_terms_and_suggests_person_first_ones(text, term, suggests):
    found = language.check_text(text)
    if term is None:
        assert found == []
        return
    assert [f.term.id for f in found] == [term]
    assert suggests in found[0].term.alternatives


@pytest.mark.parametrize("text", [
    "A person who uses drugs was given 10 sterile needles and 5 condoms.",
    "Police abuse of power was reported.",          # abuse of rights, not drug use
    "Clean the table after the session.",
    "Human rights abuses by police",
    "The user logged in.",
    "شخص يتعاطى المخدرات حصل على حقن معقمة",
    "فردی که مواد مصرف می‌کند سرنگ استریل گرفت",
    "Человек, употребляющий наркотики, получил стерильные шприцы.",
    "Чистая вода и полотенце",                      # "clean" not about equipment or people
    "злоупотребление властью полицией",             # abuse of power, not drug use
    "使用毒品的人领取了无菌针具",
    "权力滥用",                                      # abuse of power
])
def test_it_leaves_respectful_text_alone(text):
    assert language.check_text(text) == []


def test_it_reports_the_line_of_each_finding():
    found = language.check_text("first line\nsecond: addict\nthird: junkies")
    assert [(f.line, f.text) for f in found] == [(2, "addict"), (3, "junkies")]


def test_it_reports_a_phrase_once():
    assert [f.text for f in language.check_text("a drug addict")] == ["drug addict"]


def test_it_checks_only_translations_in_po_files(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#: x.html\nmsgid "addict"\nmsgstr "شخص يتعاطى المخدرات"\n\n'
        '#: y.html\nmsgid "person"\nmsgstr "مدمن"\n',
        encoding="utf-8",
    )
    found = language.check_file(po)
    assert [f.term.id for f in found] == ["ar-addict"]


def test_it_checks_only_translatable_strings_in_python_files(tmp_path):
    py = tmp_path / "views.py"
    py.write_text(
        "from django.utils.translation import gettext as _\n"
        "# an addict in a comment is not shown to anyone\n"
        "code = 'junkie'\n"
        "label = _('Gave clean needles')\n",
        encoding="utf-8",
    )
    assert [(f.line, f.term.id) for f in language.check_file(py)] == [(4, "en-clean-equipment")]


def test_it_finds_no_term_to_avoid_in_any_template_string_or_translation_of_the_product():
    files = [f for f in language.product_files(PRODUCT) if f not in ALLOWED]
    assert {".html", ".py"} <= {f.suffix for f in files}
    problems = [
        f"{path.relative_to(REPO)}:{f.line}: '{f.text}' -> {' / '.join(f.term.alternatives)}"
        for path in files
        for f in language.check_file(path, levels=("avoid",))
    ]
    assert problems == []


def test_it_finds_no_term_to_avoid_in_the_care_docs_outside_the_language_page():
    docs = [p for p in (REPO / "docs" / "care").glob("*.md") if p not in ALLOWED]
    problems = [(p.name, f.text) for p in docs for f in language.check_file(p, levels=("avoid",))]
    assert problems == []


def test_it_offers_the_check_as_a_command(tmp_path, capsys):
    from salus.cli import main

    bad = tmp_path / "note.html"
    bad.write_text("<p>clean needles</p>", encoding="utf-8")
    good = tmp_path / "ok.html"
    good.write_text("<p>sterile needles</p>", encoding="utf-8")
    assert main(["language", "check", str(good)]) == 0
    assert main(["language", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "note.html:1" in out and "sterile needles" in out


def test_it_warns_in_the_contact_form_through_the_check_endpoint(login, program):
    c = login(program.worker_a)
    r = c.post("/care/language/check/", {"notes": "gave clean syringes to an addict"})
    body = r.content.decode()
    assert r.status_code == 200 and "sterile syringes" in body and "person who uses drugs" in body
    assert "consider" not in c.post("/care/language/check/", {"notes": "all fine"}).content.decode()
    assert login(program.analyst).post("/care/language/check/", {"notes": "x"}).status_code == 403
