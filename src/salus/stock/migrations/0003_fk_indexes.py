"""Foreign-key columns lose their single-column indexes where another index of the table
starts with the same column (tests/core/test_schema_indexes.py); each index costs every
insert. The indexes are dropped by name, without rebuilding SQLite tables."""

import django.db.models.deletion
from django.db import migrations, models

from salus.core.migration_ops import drop_foreign_key_index


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0006_fk_indexes'),
        ('stock', '0002_default_commodities'),
    ]

    operations = [
        drop_foreign_key_index('stock', 'stocklevel', 'site', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='stock_levels', to='core.site')),
        drop_foreign_key_index('stock', 'stockmovement', 'site', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='stock_movements', to='core.site')),
    ]
