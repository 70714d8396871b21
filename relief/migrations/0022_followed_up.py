"""Application.followed_up: whether a follow-up is on file, so that the dashboard's
"paid, follow-up overdue" counts read one range of a partial index instead of anti-joining
every follow-up ever recorded. Existing cases are marked from the follow-ups on file."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def mark_followed_up(apps, schema_editor):
    Application = apps.get_model("relief", "Application")
    FollowUp = apps.get_model("relief", "FollowUp")
    Application.objects.filter(Exists(FollowUp.objects.filter(application=OuterRef("pk")))).update(
        followed_up=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("relief", "0021_paid_followup_index"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="application",
            name="application_paid_followup",
        ),
        migrations.AddField(
            model_name="application",
            name="followed_up",
            field=models.BooleanField(
                db_default=False, default=False, editable=False, verbose_name="followed up"
            ),
        ),
        migrations.RunPython(mark_followed_up, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(
                condition=models.Q(("followed_up", False), ("state", "disbursed")),
                fields=["union", "id"],
                include=("application_date", "disbursed_at", "state"),
                name="application_paid_followup",
            ),
        ),
    ]
