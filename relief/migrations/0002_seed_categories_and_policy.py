import datetime as dt
from decimal import Decimal

from django.db import migrations

CATEGORIES = ["重大疾病", "意外伤害", "自然灾害", "子女就学", "家庭成员患病", "其他"]
DEFAULT_POLICY = "佛山市南海区西樵镇总工会临时救助办法"


def seed(apps, schema_editor):
    Category = apps.get_model("relief", "HardshipCategory")
    Policy = apps.get_model("relief", "Policy")
    for order, name in enumerate(CATEGORIES, start=1):
        Category.objects.get_or_create(name=name, defaults={"order": order})
    Policy.objects.get_or_create(
        effective_from=dt.date(2018, 1, 1),
        defaults={"name": DEFAULT_POLICY, "max_per_payout": Decimal("10000.00")},
    )


def unseed(apps, schema_editor):
    apps.get_model("relief", "HardshipCategory").objects.filter(name__in=CATEGORIES).delete()
    apps.get_model("relief", "Policy").objects.filter(
        effective_from=dt.date(2018, 1, 1), name=DEFAULT_POLICY
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("relief", "0001_workers_applications_audit")]

    operations = [migrations.RunPython(seed, unseed)]
