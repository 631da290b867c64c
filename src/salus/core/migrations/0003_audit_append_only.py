"""Make the audit log append-only in the database (see salus.core.auditseal)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from salus.core import auditseal

    auditseal.install(schema_editor.connection)


def backwards(apps, schema_editor):
    from salus.core import auditseal

    auditseal.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_populationsizeestimate")]
    operations = [migrations.RunPython(forwards, backwards)]
