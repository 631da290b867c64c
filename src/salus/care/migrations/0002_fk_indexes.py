"""Foreign-key columns lose their single-column indexes where another index of the table
starts with the same column (tests/core/test_schema_indexes.py); each index costs every
insert. The indexes are dropped by name, without rebuilding SQLite tables."""

import django.db.models.deletion
from django.db import migrations, models

from salus.core.migration_ops import drop_foreign_key_index


class Migration(migrations.Migration):

    dependencies = [
        ('care', '0001_initial'),
        ('clients', '0003_fk_indexes'),
        ('core', '0006_fk_indexes'),
    ]

    operations = [
        drop_foreign_key_index('care', 'feedback', 'site', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.site')),
        drop_foreign_key_index('care', 'goal', 'client', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='care_goals', to='clients.client')),
        drop_foreign_key_index('care', 'promptcheck', 'client', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='clients.client')),
        drop_foreign_key_index('care', 'rightsreport', 'site', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.site')),
    ]
