"""``salus import`` and ``salus export`` through salus.cli.main."""

from __future__ import annotations

from salus.cli import main
from salus.services.models import Contact

from .helpers import contact, contacts_file


def test_import_prints_every_problem_and_exits_non_zero(program, tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_bytes(contacts_file(contact(), contact(site="NOPE"), contact(injects="often")))
    assert main(["import", "contacts", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "line 3, column site: unknown site NOPE",
        "line 4, column injects: often is not yes or no",
        "2 problem(s) found; nothing was imported",
    ]
    assert Contact.objects.count() == 0


def test_import_then_import_again(program, tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_bytes(contacts_file(contact(), contact(date="2025-03-05")))
    assert main(["import", "contacts", str(path)]) == 0
    assert "contacts created 2" in capsys.readouterr().out
    assert main(["import", "contacts", str(path)]) == 0
    assert "contacts created 0, contacts skipped 2" in capsys.readouterr().out
    assert Contact.objects.count() == 2


def test_import_as_a_user_needs_the_import_right(program, tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_bytes(contacts_file(contact()))
    assert main(["import", "contacts", str(path), "--user", "worker_a"]) == 2
    assert "may not import" in capsys.readouterr().err
    assert main(["import", "contacts", str(path), "--user", "coordinator_a", "--dry-run"]) == 0
    assert Contact.objects.count() == 0
    assert main(["import", "contacts", str(path), "--user", "coordinator_a"]) == 0
    assert Contact.objects.get().staff == program.coordinator_a


def test_export_needs_an_active_administrator(program, record_contact, tmp_path, capsys):
    record_contact(program.site_a)
    out = tmp_path / "out.csv"
    assert main(["export", "contacts", str(out), "--user", "manager"]) == 2
    assert not out.exists()
    program.admin.is_active = False
    program.admin.save()
    assert main(["export", "contacts", str(out), "--user", "admin"]) == 2
    program.admin.is_active = True
    program.admin.save()
    assert main(["export", "contacts", str(out), "--user", "admin", "--from", "2000-01-01"]) == 0
    assert "exported 1 contacts row(s)" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 2
