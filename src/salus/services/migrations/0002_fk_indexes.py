"""Foreign-key columns lose their single-column indexes where another index of the table
starts with the same column (tests/core/test_schema_indexes.py); each index costs every
insert. The indexes are dropped by name, without rebuilding SQLite tables."""

import django.db.models.deletion
from django.db import migrations, models

from salus.core.migration_ops import drop_foreign_key_index


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0003_fk_indexes'),
        ('core', '0006_fk_indexes'),
        ('services', '0001_initial'),
    ]

    operations = [
        drop_foreign_key_index('services', 'contact', 'client', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='contacts', to='clients.client')),
        drop_foreign_key_index('services', 'contact', 'site', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='contacts', to='core.site')),
        drop_foreign_key_index('services', 'ostdose', 'episode', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='doses', to='services.ostepisode')),
        drop_foreign_key_index('services', 'referral', 'site', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='referrals', to='core.site')),
    ]
