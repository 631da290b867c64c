"""Foreign-key columns lose their single-column indexes where another index of the table
starts with the same column (tests/core/test_schema_indexes.py); each index costs every
insert. The indexes are dropped by name, without rebuilding SQLite tables."""

import django.db.models.deletion
from django.db import migrations, models

from salus.core.migration_ops import drop_foreign_key_index


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_user_totp_last_step'),
    ]

    operations = [
        drop_foreign_key_index('core', 'area', 'parent', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='children', to='core.area')),
        drop_foreign_key_index('core', 'populationsizeestimate', 'area', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='population_estimates', to='core.area')),
    ]
