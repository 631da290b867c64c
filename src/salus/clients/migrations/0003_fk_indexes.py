"""Foreign-key columns lose their single-column indexes where another index of the table
starts with the same column (tests/core/test_schema_indexes.py); each index costs every
insert. The indexes are dropped by name, without rebuilding SQLite tables."""

import django.db.models.deletion
from django.db import migrations, models

from salus.core.migration_ops import drop_foreign_key_index


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0002_initial'),
        ('core', '0006_fk_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='clientsite',
            name='clientsite_client',
        ),
        drop_foreign_key_index('clients', 'clientsite', 'site', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='client_links', to='core.site')),
        drop_foreign_key_index('clients', 'duplicatedismissal', 'client_a', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='clients.client')),
        drop_foreign_key_index('clients', 'uicneighbourkey', 'client', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='neighbour_keys', to='clients.client')),
    ]
