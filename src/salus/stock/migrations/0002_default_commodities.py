"""Seed the commodities every program tracks; programs add their own in the admin."""

from django.db import migrations

DEFAULTS = [
    ("syringe", "Syringe with needle (any size)", "piece", "injecting"),
    ("syringe_1ml", "Syringe 1 ml", "piece", "injecting"),
    ("syringe_2ml", "Syringe 2 ml", "piece", "injecting"),
    ("syringe_5ml", "Syringe 5 ml", "piece", "injecting"),
    ("injecting_kit", "Other injecting equipment (cookers, filters, water, swabs)", "kit", "injecting"),
    ("naloxone_kit", "Naloxone kit", "kit", "naloxone"),
    ("condom", "Condom", "piece", "condoms"),
    ("lubricant", "Lubricant", "sachet", "condoms"),
    ("hiv_test_kit", "HIV rapid test", "test", "tests"),
    ("hcv_test_kit", "HCV rapid test", "test", "tests"),
]


def add_defaults(apps, schema_editor):
    Commodity = apps.get_model("stock", "Commodity")
    for code, name, unit, category in DEFAULTS:
        Commodity.objects.get_or_create(code=code, defaults={"name": name, "unit": unit, "category": category})


def remove_defaults(apps, schema_editor):
    Commodity = apps.get_model("stock", "Commodity")
    Commodity.objects.filter(code__in=[d[0] for d in DEFAULTS], movements__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("stock", "0001_initial")]
    operations = [migrations.RunPython(add_defaults, remove_defaults)]
