"""Demo unions and one user per role per union (see README: demo accounts)."""

from pathlib import Path

from django.conf import settings
from django.db import transaction

from unions.importing import import_unions
from unions.models import Level, Role, Union, User
from unions.services import user_set_role

DEMO_PASSWORD = "demo-2024"
UNIONS_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo_unions.csv"

# Plausible names, one per union; looked up by union code.
PEOPLE = {
    "NH": "陈志强",
    "XQ": "梁慧敏",
    "DL": "何建华",
    "JJ": "关永康",
    "XQ-S01": "黄丽娟",
    "XQ-S02": "冯伟明",
    "XQ-E01": "李秀英",
    "XQ-E02": "张国强",
    "XQ-V01": "区少芬",
    "XQ-V02": "潘志文",
    "DL-S01": "陆嘉欣",
    "DL-E01": "罗振华",
    "DL-E02": "吴美玲",
    "DL-V01": "邓家豪",
    "JJ-S01": "杜燕萍",
    "JJ-E01": "麦志坚",
    "JJ-V01": "岑秀兰",
}
# Complaint lines printed on the towns' public-notice lists (公示名单).
TOWN_PHONES = {"XQ": "0757-86881234", "DL": "0757-85501234", "JJ": "0757-86501234"}
ROLE_FOR_LEVEL = {
    Level.DISTRICT: Role.DISTRICT_OFFICER,
    Level.TOWN: Role.TOWN_REVIEWER,
    Level.GRASSROOTS: Role.CASEWORKER,
}


def demo_username(union: Union) -> str:
    suffix = {Level.DISTRICT: "officer", Level.TOWN: "reviewer"}.get(union.level)
    return f"{union.code.lower()}-{suffix}" if suffix else union.code.lower()


@transaction.atomic
def build_demo_unions(progress=None) -> list[tuple[User, str]]:
    """Import the demo tree and (re)create its users; safe to run again.

    `progress(done, total)` is called after each account (hashing passwords is the slow part).
    """
    result = import_unions(UNIONS_FILE)
    if result.errors:  # the shipped file is checked by the tests; this is a guard
        raise RuntimeError("; ".join(str(e) for e in result.errors))
    for code, phone in TOWN_PHONES.items():
        Union.objects.filter(code=code, phone="").update(phone=phone)
    accounts = []
    admin, _ = User.objects.get_or_create(username="admin")
    admin.full_name, admin.is_staff, admin.is_superuser = "系统管理员", True, True
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    accounts.append((admin, DEMO_PASSWORD))
    unions = list(Union.objects.filter(code__in=PEOPLE).order_by("path"))
    total = len(unions) + 1
    if progress:
        progress(1, total)
    for union in unions:
        user, _ = User.objects.get_or_create(username=demo_username(union))
        user.full_name = PEOPLE[union.code]
        user.set_password(DEMO_PASSWORD)
        user_set_role(user=user, role=ROLE_FOR_LEVEL[union.level], union=union)
        accounts.append((user, DEMO_PASSWORD))
        if progress:
            progress(len(accounts), total)
    return accounts
