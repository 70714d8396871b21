"""Fill the monthly totals from the payouts and income already recorded."""

from django.db import migrations


def backfill(apps, schema_editor):
    from relief.services.totals import rebuild

    rebuild(apps)


class Migration(migrations.Migration):
    dependencies = [("relief", "0015_monthly_totals")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
