"""Migration helpers.

``drop_foreign_key_index`` stops indexing a foreign key's column on its own, where an index
that starts with the same column already serves its look-ups. Every index costs each insert
(the contacts table takes millions), and Django's ``AlterField(db_index=False)`` would rebuild
a whole SQLite table to drop one; this drops the index by name (found by introspection, as
Django named it) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.db import migrations


def drop_foreign_key_index(app_label: str, model_name: str, field_name: str, field) -> migrations.SeparateDatabaseAndState:
    """The operation. ``field`` is the foreign key as it becomes (``db_index=False``)."""

    def drop(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        column = model._meta.get_field(field_name).column
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
        for name, info in constraints.items():
            if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == [column]:
                schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")

    def restore(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field(field_name)]))

    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=field_name, field=field)],
        database_operations=[migrations.RunPython(drop, restore, elidable=False)],
    )
