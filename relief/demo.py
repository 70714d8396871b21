"""Demo workers, households and cases in every state, plus a worker helped 2019-2024, and the
money behind them: district allocations and town funds per town, 梁志明's years paid from
西樵's town funds, and a ten-yuan donation campaign per town.

Everything goes through the services, so the demo's audit trail is as real as production's.
Running it again adds nothing: workers are found by ID number, and a worker who already has
cases is left alone.
"""

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.db import transaction
from django.utils import timezone

from relief import services
from relief.idcard import check_digit
from relief.models import (
    Application,
    DonationCampaign,
    FundIncome,
    HardshipCategory,
    Policy,
    Worker,
)
from unions.models import Union, User


def _id(area: str, born: dt.date, seq: int) -> str:
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)


# (union code, name, born, male, employer, hukou, health, household, story, categories, amount,
#  final state)
CASES = [
    (
        "XQ-S01",
        "黄志坚",
        dt.date(1975, 3, 8),
        True,
        "西樵纺织厂",
        "佛山市南海区",
        "肺癌术后化疗",
        [("妻子", "陈美玲", 48, "务工", "2200"), ("儿子", "黄嘉豪", 15, "初中", "0")],
        "本人肺癌术后化疗，妻子收入微薄，儿子在读初中。",
        ["重大疾病"],
        "6000",
        "draft",
    ),
    (
        "XQ-S02",
        "冯丽华",
        dt.date(1982, 7, 21),
        False,
        "樵山食品有限公司",
        "广西玉林",
        "",
        [("丈夫", "李国明", 45, "工伤在家", "0")],
        "丈夫工伤致残无法工作，家庭主要收入中断。",
        ["意外伤害"],
        "4000",
        "submitted",
    ),
    (
        "XQ-E01",
        "李建国",
        dt.date(1970, 11, 2),
        True,
        "西樵纺织产业园",
        "湖南衡阳",
        "糖尿病并发症",
        [("母亲", "王秀英", 74, "高血压", "0")],
        "本人糖尿病并发症住院，母亲高血压需长期服药。",
        ["重大疾病", "家庭成员患病"],
        "5000",
        "returned",
    ),
    (
        "XQ-E02",
        "张美娟",
        dt.date(1988, 1, 30),
        False,
        "樵山食品有限公司",
        "佛山市南海区",
        "",
        [("女儿", "张可欣", 9, "小学", "0"), ("儿子", "张可乐", 12, "小学", "0")],
        "单亲母亲，两名子女在读，房屋受台风损毁。",
        ["自然灾害", "子女就学"],
        "3000",
        "verified",
    ),
    (
        "XQ-V01",
        "区伟强",
        dt.date(1979, 5, 5),
        True,
        "民乐村经济社",
        "佛山市南海区",
        "尿毒症透析",
        [("妻子", "潘少芳", 44, "慢性肾炎", "1500")],
        "本人尿毒症每周透析三次，妻子患慢性肾炎。",
        ["重大疾病"],
        "8000",
        "recommended",
    ),
    (
        "XQ-V02",
        "潘国华",
        dt.date(1968, 9, 12),
        True,
        "太平村",
        "佛山市南海区",
        "",
        [("父亲", "潘树根", 86, "卧床", "0")],
        "父亲中风卧床需专人照料，本人收入不足以维持。",
        ["家庭成员患病"],
        "3000",
        "approved",
    ),
    (
        "DL-S01",
        "陆家明",
        dt.date(1985, 4, 18),
        True,
        "盐步物流公司",
        "江西赣州",
        "交通事故骨折",
        [("妻子", "罗小兰", 35, "待业", "0")],
        "交通事故多处骨折，治疗期间无收入。",
        ["意外伤害"],
        "5000",
        "disbursed",
    ),
    (
        "DL-E01",
        "罗秀珍",
        dt.date(1973, 12, 1),
        False,
        "沥东铝型材有限公司",
        "佛山市南海区",
        "乳腺癌",
        [("丈夫", "吴志明", 52, "务工", "3000")],
        "乳腺癌手术及后续治疗费用高。",
        ["重大疾病"],
        "7000",
        "closed",
    ),
    (
        "DL-V01",
        "邓永康",
        dt.date(1990, 6, 25),
        True,
        "凤池村",
        "四川达州",
        "",
        [],
        "家中失火，财物损失。",
        ["自然灾害"],
        "2000",
        "rejected",
    ),
    (
        "JJ-S01",
        "杜志华",
        dt.date(1983, 2, 14),
        True,
        "儒林社区",
        "佛山市南海区",
        "",
        [("儿子", "杜俊杰", 18, "大学", "0")],
        "儿子考上大学，学费一时无法筹集。",
        ["子女就学"],
        "3000",
        "withdrawn",
    ),
]

# The fourth household column is a health condition for these words, else school or job.
HEALTH_WORDS = {"高血压", "慢性肾炎", "卧床", "慢性病"}

LIANG_PAYOUTS = [
    (2019, "5000"),
    (2020, "5000"),
    (2021, "10000"),
    (2022, "5000"),
    (2023, "5000"),
    (2024, "5000"),
]


def _users():
    by_name = {u.username: u for u in User.objects.select_related("union")}
    return by_name


def _worker(caseworker, name, born, male, employer, hukou, health, household, seq):
    id_number = _id("440605", born, seq * 2 + (1 if male else 0))
    worker = Worker.objects.filter(id_number=id_number).first()
    if worker is not None:
        return worker, False
    members = [
        {
            "relation": rel,
            "name": n,
            "age": age,
            "occupation": "" if job in HEALTH_WORDS else job,
            "health": job if job in HEALTH_WORDS else "",
            "monthly_income": Decimal(income),
        }
        for rel, n, age, job, income in household
    ]
    worker = services.worker_create(
        user=caseworker,
        data={
            "name": name,
            "id_number": id_number,
            "phone": f"139{seq:08d}",
            "employer": employer,
            "address": f"{caseworker.union.name}辖区",
            "hukou": hukou,
            "health": health,
            "realname_verified": seq % 2 == 0,
            "bank_name": "广东南海农村商业银行",
            "bank_branch": "西樵支行" if caseworker.union.code.startswith("XQ") else "大沥支行",
            "bank_card": f"62214832{seq:011d}",
        },
        household=members,
        source="demo",
    )
    return worker, True


# Days after the application date on which each step of a past case happened. The demo
# replays 梁志明's earlier years step by step at these dates, so every timestamp, the audit
# trail and the printed documents agree: applied, visited, recommended, approved, then paid.
STEP_DAYS = {
    "submit": 0,
    "visit": 10,
    "verify": 10,
    "recommend": 17,
    "approve": 26,
    "pay": 36,
    "follow_up": 56,
    "close": 56,
}
# The hour of the day (local time) a replayed step is taken, in the order of the steps.
STEP_HOURS = {"create": 9, "submit": 10, "visit": 10, "verify": 16, "recommend": 15}


@contextmanager
def _clock(moment: dt.datetime | None):
    """Run the services as if it were `moment` (None: now).

    The services take the time from django.utils.timezone.now, as they must in production;
    replaying a past case through the same services is the only honest way to give it the
    dates it had, and the patch lasts only for the one step.
    """
    if moment is None:
        yield
        return
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


class _Replay:
    """When each step of a case happens: at its day after `applied`, or now for a case filed
    today (then every step is today, in the order taken)."""

    def __init__(self, applied: dt.date | None):
        self.applied = applied

    def day(self, step: str) -> dt.date:
        if self.applied is None:
            return timezone.localdate()
        return self.applied + dt.timedelta(days=STEP_DAYS.get(step, 0))

    def at(self, step: str):
        if self.applied is None:
            return _clock(None)
        moment = dt.datetime.combine(self.day(step), dt.time(STEP_HOURS.get(step, 11)))
        return _clock(timezone.make_aware(moment))


def _drive(app, target, *, caseworker, reviewer, officer, amount, replay, fund="district"):
    """Move a draft case along the usual path until it reaches `target`."""
    kw = {"source": "demo"}
    if target == "withdrawn":
        return services.application_withdraw(
            application=app, user=caseworker, comment="已获其他救助", **kw
        )
    if target == "draft":
        return app
    with replay.at("submit"):
        app = services.application_submit(application=app, user=caseworker, **kw)
    if target == "returned":
        return services.application_return(
            application=app, user=reviewer, comment="请补充住院诊断证明及费用清单。", **kw
        )
    if target == "rejected":
        return services.application_reject(
            application=app,
            user=reviewer,
            reason="经核实已获保险理赔，困难程度未达救助标准。",
            **kw,
        )
    if target == "submitted":
        return app
    with replay.at("visit"):
        services.home_visit_record(
            application=app,
            user=reviewer,
            visit_date=replay.day("visit"),
            visitors=f"{reviewer.full_name}、{caseworker.full_name}",
            findings="入户核实情况属实，家庭收入低，医疗支出大。",
            verified_household_income=app.household_monthly_income,
            verified_monthly_expenses=app.monthly_medical_expenses + Decimal("1500"),
            **kw,
        )
    with replay.at("verify"):
        app = services.application_verify(application=app, user=reviewer, **kw)
    if target == "verified":
        return app
    with replay.at("recommend"):
        app = services.application_recommend(
            application=app, user=reviewer, amount=amount, comment="镇研讨会议同意救助。", **kw
        )
    if target == "recommended":
        return app
    with replay.at("approve"):
        app = services.application_approve(
            application=app, user=officer, amount=amount, comment="同意。", **kw
        )
    if target == "approved":
        return app
    paid_on = replay.day("pay")
    with replay.at("pay"):
        services.disbursement_record(
            application=app,
            user=officer,
            amount=amount,
            paid_on=paid_on,
            method="bank",
            fund_source=fund,
            voucher_no=f"NH-{paid_on:%Y%m}-{app.pk:04d}",
            **kw,
        )
    app.refresh_from_db()
    if target == "disbursed":
        return app
    with replay.at("follow_up"):
        services.follow_up_record(
            application=app,
            user=reviewer,
            follow_up_date=replay.day("follow_up"),
            method="phone",
            findings="电话回访，救助金已收到，病情稳定。",
            **kw,
        )
    with replay.at("close"):
        return services.application_close(application=app, user=reviewer, **kw)


@transaction.atomic
def build_demo_cases() -> dict:
    users = _users()
    officer = users["nh-officer"]
    categories = {c.name: c for c in HardshipCategory.objects.all()}
    today = timezone.localdate()
    made = {"workers": 0, "cases": 0, "fund_income": build_demo_funds(users, today)}
    for seq, (
        code,
        name,
        born,
        male,
        employer,
        hukou,
        health,
        household,
        story,
        cats,
        amount,
        target,
    ) in enumerate(CASES, start=1):
        caseworker = users[code.lower()]
        reviewer = users[f"{code.split('-')[0].lower()}-reviewer"]
        worker, created = _worker(
            caseworker, name, born, male, employer, hukou, health, household, seq
        )
        made["workers"] += created
        if worker.applications.exists():
            continue
        app = services.application_create(
            user=caseworker,
            worker=worker,
            categories=[categories[c] for c in cats],
            narrative=story,
            requested_amount=Decimal(amount),
            household_monthly_income=Decimal("1800"),
            monthly_medical_expenses=Decimal("2500"),
            application_date=today,
            source="demo",
        )
        _drive(
            app,
            target,
            caseworker=caseworker,
            reviewer=reviewer,
            officer=officer,
            amount=Decimal(amount),
            replay=_Replay(None),
        )
        made["cases"] += 1
    made["cases"] += _build_liang(users, categories)
    made["notices"] = build_demo_notice(users)
    made["cases"] += _build_emergencies(users, categories, today)
    return made


def _enable_advances(categories) -> None:
    """先行救助 on the policy in force: up to 3,000 yuan from town funds for serious illness,
    accidents, disasters and deaths in the family (a phone call stands in for the visit after
    a disaster), the file completed within 10 working days."""
    policy = Policy.in_force(timezone.localdate())
    if policy.advance_allowed:
        return
    policy.advance_allowed = True
    policy.advance_cap = Decimal("3000.00")
    policy.advance_from_town = True
    policy.advance_file_workdays = 10
    policy.save()
    qualifying = [c for name, c in categories.items() if name in ADVANCE_CATEGORIES]
    policy.advance_categories.set(qualifying)
    policy.advance_phone_categories.set([categories["自然灾害"]])


ADVANCE_CATEGORIES = ("重大疾病", "意外伤害", "自然灾害", "家庭成员患病")


def _this_year(today, days_ago):
    """`days_ago` days back, or None (every step today) when that falls in the previous year:
    a case's steps stay in its own year."""
    day = today - dt.timedelta(days=days_ago)
    return day if day.year == today.year else None


def _build_emergencies(users, categories, today) -> int:
    """Two emergency cases: 西樵 paid an advance three weeks ago on an accident and has not
    completed the file (overdue); 大沥 paid one after a flood on a phone verification, and
    the district approved less (a shortfall borne by the town's own funds)."""
    _enable_advances(categories)
    kw = {"source": "demo"}
    made = 0
    # 1. 西樵: a fall at work, surgery needed at once; the file is still open.
    caseworker, reviewer = users["xq-s01"], users["xq-reviewer"]
    replay = _Replay(_this_year(today, 21))
    with replay.at("create"):
        worker, _created = _worker(
            caseworker,
            "罗永强",
            dt.date(1979, 11, 2),
            True,
            "西樵铝材厂",
            "湖南邵阳",
            "高处坠落致脊椎骨折",
            [("妻子", "谢桂芳", 43, "务工", "2600"), ("女儿", "罗诗琪", 11, "小学", "0")],
            seq=91,
        )
    if not worker.applications.exists():
        with replay.at("create"):
            app = services.application_create(
                user=caseworker,
                worker=worker,
                categories=[categories["意外伤害"]],
                narrative="车间高处坠落致脊椎骨折，需立即手术，工伤认定尚未完成，家中无积蓄。",
                requested_amount=Decimal("5000"),
                household_monthly_income=Decimal("2600"),
                monthly_medical_expenses=Decimal("6000"),
                application_date=replay.day("create"),
                **kw,
            )
        with replay.at("submit"):
            app = services.application_submit(application=app, user=caseworker, **kw)
        with replay.at("create"):
            services.home_visit_record(
                application=app,
                user=reviewer,
                visit_date=replay.day("create"),
                visitors=f"{reviewer.full_name}、{caseworker.full_name}",
                findings="到医院核实，伤情属实，手术费缺口较大。",
                verified_household_income=Decimal("2600"),
                verified_monthly_expenses=Decimal("6000"),
                **kw,
            )
            app.refresh_from_db()
            services.advance_grant(
                application=app,
                user=reviewer,
                amount=Decimal("3000"),
                reason="手术费须即日缴纳，等待区审批会来不及。",
                **kw,
            )
            app.refresh_from_db()
            services.advance_pay(
                application=app,
                user=reviewer,
                paid_on=replay.day("create"),
                method="cash",
                voucher_no=f"XQ-XJ-{replay.day('create'):%Y%m%d}",
                **kw,
            )
        with replay.at("verify"):
            # Verified, then the review meeting never came: the file is overdue.
            app.refresh_from_db()
            services.application_verify(application=app, user=reviewer, **kw)
        made += 1
    # 2. 大沥: a flood destroyed the home; verified by phone, paid, approved for less.
    caseworker, reviewer = users["dl-v01"], users["dl-reviewer"]
    replay = _Replay(_this_year(today, 40))
    with replay.at("create"):
        worker, _created = _worker(
            caseworker,
            "甘秀珍",
            dt.date(1968, 5, 19),
            False,
            "大沥五金厂",
            "佛山市南海区",
            "",
            [("丈夫", "潘志成", 58, "务农", "800")],
            seq=92,
        )
    if not worker.applications.exists():
        with replay.at("create"):
            app = services.application_create(
                user=caseworker,
                worker=worker,
                categories=[categories["自然灾害"]],
                narrative="暴雨致住房倒塌，家中财物损毁，暂住亲戚家。",
                requested_amount=Decimal("3000"),
                household_monthly_income=Decimal("2800"),
                monthly_medical_expenses=Decimal("0"),
                application_date=replay.day("create"),
                **kw,
            )
        with replay.at("submit"):
            app = services.application_submit(application=app, user=caseworker, **kw)
            services.advance_grant(
                application=app,
                user=reviewer,
                amount=Decimal("2000"),
                reason="住房倒塌，急需临时安置费用。",
                phone_verified_on=replay.day("create"),
                phone_contact="村委会主任 潘国良",
                phone_findings="电话核实：住房倒塌属实，一家暂住亲戚家。",
                **kw,
            )
            app.refresh_from_db()
            services.advance_pay(
                application=app, user=reviewer, paid_on=replay.day("create"), method="cash", **kw
            )
            app.refresh_from_db()
        with replay.at("visit"):
            services.home_visit_record(
                application=app,
                user=reviewer,
                visit_date=replay.day("visit"),
                visitors=reviewer.full_name,
                findings="补做入户核实：保险已赔付部分损失。",
                verified_household_income=Decimal("2800"),
                verified_monthly_expenses=Decimal("1200"),
                **kw,
            )
        with replay.at("verify"):
            app = services.application_verify(application=app, user=reviewer, **kw)
        with replay.at("recommend"):
            app = services.application_recommend(
                application=app, user=reviewer, amount=Decimal("1500"), comment="同意。", **kw
            )
        with replay.at("approve"):
            services.application_approve(
                application=app,
                user=users["nh-officer"],
                amount=Decimal("1500"),
                comment="保险已赔付部分损失，核定1500元；差额由镇自筹承担。",
                **kw,
            )
        made += 1
    return made


def build_demo_notice(users) -> int:
    """西樵's recommended case on public notice since today, with an objection received by
    phone and not yet resolved: the district's approve button says what it waits for."""
    from relief.models import PublicNotice
    from relief.services.notices import candidates_for_notice, notice_open, objection_record

    reviewer = users["xq-reviewer"]
    if PublicNotice.objects.filter(town=reviewer.union).exists():
        return 0
    cases = list(candidates_for_notice(reviewer))
    if not cases:
        return 0
    today = timezone.localdate()
    notice = notice_open(
        user=reviewer,
        applications=cases,
        posted_at="各基层工会公示栏、西樵镇总工会微信公众号",
        starts_on=today,
        source="demo",
    )
    objection_record(
        user=reviewer,
        application=cases[0],
        received_on=today,
        channel="phone",
        content="来电反映该职工家中有一处出租屋，每月有租金收入，认为困难情况与申报不符。",
        objector_name="李先生",
        objector_contact="139****2688",
        handler=reviewer.full_name,
        source="demo",
    )
    return len(notice.items.all())


def _build_liang(users, categories) -> int:
    """梁先生: kidney disease, dialysis, transplant in 2021, helped every year 2019-2024."""
    caseworker, reviewer, officer = users["xq-v01"], users["xq-reviewer"], users["nh-officer"]
    first = _Replay(dt.date(LIANG_PAYOUTS[0][0], 3, 15))
    with first.at("create"):
        worker, _created = _worker(
            caseworker,
            "梁志明",
            dt.date(1972, 8, 16),
            True,
            "民乐村经济社",
            "佛山市南海区",
            "慢性肾病，长期透析，2021年9月肾移植",
            [
                ("母亲", "梁陈氏", 78, "慢性病", "0"),
                ("儿子", "梁嘉俊", 17, "高中", "0"),
                ("女儿", "梁嘉怡", 13, "初中", "0"),
            ],
            seq=99,
        )
    if worker.applications.exists():
        return 0
    for year, amount in LIANG_PAYOUTS:
        story = "肾病透析，母亲长期患病，一子一女在读。" + (
            "2021年9月接受肾移植手术。" if year == 2021 else ""
        )
        replay = _Replay(dt.date(year, 3, 15))
        with replay.at("create"):
            app = services.application_create(
                user=caseworker,
                worker=worker,
                categories=[categories["重大疾病"], categories["家庭成员患病"]],
                narrative=story,
                requested_amount=Decimal(amount),
                household_monthly_income=Decimal("1500"),
                monthly_medical_expenses=Decimal("4000"),
                application_date=replay.applied,
                # The caseworker's own words, as entered on the intake form.
                grassroots_opinion="该职工长期透析，母亲患病，子女在读，家庭困难属实，同意申报。",
                source="demo",
            )
        _drive(
            app,
            "closed",
            caseworker=caseworker,
            reviewer=reviewer,
            officer=officer,
            amount=Decimal(amount),
            replay=replay,
            fund="town",
        )
    return len(LIANG_PAYOUTS)


def demo_application_count() -> int:
    return Application.objects.count()


# town code -> (district allocation, town funds) for the current year
TOWN_FUNDS = {"XQ": ("60000", "20000"), "DL": ("40000", "15000"), "JJ": ("30000", "10000")}
# (grassroots code, donors, yuan, receipts) collected in last year's campaign, 10 yuan each
COLLECTIONS = [
    ("XQ-S01", 120, "1200", "SY-0001～0120"),
    ("XQ-E01", 350, "3500", "SY-0121～0470"),
    ("XQ-V01", 86, "860", "SY-0471～0556"),
    ("DL-E01", 410, "4100", "DL-0001～0410"),
    ("JJ-S01", 95, "950", "JJ-0001～0095"),
]


def _income(officer, town, source, year, amount, on, note, document_no="") -> int:
    if FundIncome.objects.filter(
        account__town=town, account__source=source, account__year=year, note=note
    ).exists():
        return 0
    services.fund_income_record(
        user=officer,
        town=town,
        source=source,
        year=year,
        amount=Decimal(amount),
        received_on=on,
        document_no=document_no,
        note=note,
        origin="demo",
    )
    return 1


def build_demo_funds(users, today: dt.date) -> int:
    """Income for this year's cases and 梁志明's years; one donation campaign per town."""
    officer = users["nh-officer"]
    towns = {u.code: u for u in Union.objects.filter(code__in=TOWN_FUNDS)}
    made = 0
    for n, (code, (district, town_funds)) in enumerate(TOWN_FUNDS.items(), start=1):
        town = towns[code]
        made += _income(
            officer,
            town,
            "district",
            today.year,
            district,
            dt.date(today.year, 1, 15),
            "演示：年度临时救助拨款",
            document_no=f"南工字〔{today.year}〕{n}号",
        )
        made += _income(
            officer,
            town,
            "town",
            today.year,
            town_funds,
            dt.date(today.year, 1, 20),
            "演示：镇自筹",
        )
    for year, amount in LIANG_PAYOUTS:
        received = dt.date(year, 3, 1)
        # Recorded when it came in, like the cases it paid for (see _Replay).
        with _clock(timezone.make_aware(dt.datetime.combine(received, dt.time(9)))):
            made += _income(officer, towns["XQ"], "town", year, amount, received, "演示：镇自筹")
    last_year = today.year - 1
    for code, town in towns.items():
        reviewer = users[f"{code.lower()}-reviewer"]
        campaign = DonationCampaign.objects.filter(town=town, year=last_year).first()
        if campaign is not None:
            continue
        campaign = services.donation_campaign_create(
            user=reviewer, town=town, year=last_year, source="demo"
        )
        for union_code, donors, amount, receipts in COLLECTIONS:
            if not union_code.startswith(code):
                continue
            services.donation_collection_record(
                user=reviewer,
                campaign=campaign,
                union=Union.objects.get(code=union_code),
                collected_on=dt.date(last_year, 5, 20),
                donor_count=donors,
                amount=Decimal(amount),
                receipt_numbers=receipts,
                source="demo",
            )
            made += 1
    return made
