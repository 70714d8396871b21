"""Fill a migrated PostgreSQL database with a city federation's data (issue 16).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_scale SECRET_KEY=... \\
        .venv/bin/python bench/generate_scale.py --recreate              # 1 M workers
    ... bench/generate_scale.py --recreate --scale 0.01                  # 10,000 workers
    ... bench/generate_scale.py --recreate --workers 20000 --cases 6000  # any size

At --scale 1 (the default): 1 district, 20 towns, 2,000 grassroots unions, 1,000,000 workers,
300,000 cases over the last ten years (every state of the state machine; the current year's
cases stopped wherever they are today), about 257,000 payouts (partial payments, reversals
and payments again among them), 600 fund accounts with their income, 十元捐 campaigns and
one collection per union and year, home visits, follow-ups, about 2.6 M audit rows, and the
users of each role (password BENCH_PASSWORD below). Skewed like real data: one town holds
about 37 % of the cases, the largest union about 6,000; a third of the helped workers come
back in later years. Deterministic for a given --seed.

Rows are written by COPY (psycopg's cursor.copy) with explicit ids, in an order that lets
every constraint and trigger of the schema check them as they arrive: a case's payouts stay
within its approved amount and the policy's cap, the fund-account trigger checks each year's
payouts against the account's income, a worker has at most one case in progress, a verified
case has its home visit and a closed one its follow-up, the cached totals (paid_amount,
FundAccount totals, reference counters) equal their entries. After loading: sequences set past
the ids used, VACUUM (ANALYZE), and set-based checks of the same invariants bench/load/check.py
checks (exit status 1 when one is broken). Timings per table are printed and, with --json, written.

--recreate DROPs and re-creates the database named by DATABASE_URL before `migrate`: never
point it at data you want to keep. Without it the database must be migrated and empty.
"""

import argparse
import bisect
import datetime as dt
import itertools
import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BENCH_PASSWORD = "bench-pass-2026"  # the generated users' password (a benchmark data set)
TZ = ZoneInfo("Asia/Shanghai")
YEARS = 10
FULL_WORKERS = 1_000_000
FULL_CASES = 300_000
TOWNS = 20
UNIONS_PER_TOWN = 100
# Share of the cases (and workers) per town: one town of a city far above the others.
TOWN_WEIGHTS = [37, 12, 8, 6, 5, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1.5, 1.5, 1, 1, 1]
TOWN_NAMES = [
    ("GC", "桂城街道总工会"),
    ("XQ", "西樵镇总工会"),
    ("DL", "大沥镇总工会"),
    ("JJ", "九江镇总工会"),
    ("SS", "狮山镇总工会"),
    ("LS", "里水镇总工会"),
    ("DZ", "丹灶镇总工会"),
    ("LC", "乐从镇总工会"),
    ("BJ", "北滘镇总工会"),
    ("CC", "陈村镇总工会"),
    ("LJ", "龙江镇总工会"),
    ("LL", "勒流街道总工会"),
    ("JA", "均安镇总工会"),
    ("XT", "杏坛镇总工会"),
    ("RG", "容桂街道总工会"),
    ("DS", "大良街道总工会"),
    ("ZC", "张槎街道总工会"),
    ("SW", "石湾镇街道总工会"),
    ("GM", "高明荷城街道总工会"),
    ("SB", "三水西南街道总工会"),
]
# 身份证 area codes: Foshan's districts first, then where many of its workers come from.
AREAS = ["440604", "440605", "440606", "440607", "440608", "445102", "450902", "431021"]
AREAS += ["441322", "360732", "522132", "511321", "433123", "445221"]
SURNAMES = (
    "陈 李 黄 张 梁 何 吴 冯 罗 邓 潘 麦 区 关 谭 刘 杨 周 叶 苏 林 郭 曾 卢 钟 朱 伍 欧阳 "
    "司徒 岑 霍 简 招 植 孔 方 余 谢 蔡 彭 王 赵 徐 孙 胡 马 高 何 郑 韩 唐 许 邱 龚"
).split()
GIVEN_CHARS = (
    "志明建华丽国强美玲伟芳秀英嘉豪慧敏少永杰凤仪锦家海燕文辉淑贞振邦婉婷俊浩然翠兰耀祖金德颖"
    "玉珍树森碧霞子健雪梅荣月娥雄桂晓东雅琪思宇欣怡梓轩诗涵佩雯瑞泽"
)
EMPLOYERS = [
    "{t}纺织有限公司",
    "{t}铝型材厂",
    "{t}五金制品有限公司",
    "{t}食品有限公司",
    "{t}陶瓷有限公司",
    "{t}物流有限公司",
    "{t}家具厂",
    "{t}电子科技有限公司",
    "{t}社区服务中心",
    "{t}环卫所",
]
PLACE_WORDS = ["和平", "新华", "东风", "华南", "南海", "兴业", "联安", "宏图", "永盛", "广利"]
UNION_KINDS = [("community", "社区工会"), ("enterprise", "有限公司工会"), ("village", "村工会")]
STORIES = [
    "本人确诊{d}，需长期治疗，医疗费用负担沉重。",
    "本人{d}住院手术，自付费用较高，家庭收入减少。",
    "本人工作中意外受伤，{d}，暂时无法工作。",
    "配偶患{d}，无法工作，家中两名子女在读。",
    "母亲患{d}，长期服药，需人照顾，家庭开支大。",
    "家中房屋受台风损毁，{d}，生活暂时困难。",
]
DETAILS = ["尿毒症", "肾病透析", "肺癌", "乳腺癌", "脑梗", "骨折", "高血压和糖尿病", "白血病"]
BANKS = ["中国农业银行", "中国工商银行", "中国建设银行", "佛山农村商业银行", "中国邮政储蓄银行"]
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_digit(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def tuple_line(*values) -> str:
    return "\t".join(copy_text(v) for v in values)


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


class Loader:
    """COPY rows into a model's table; columns the generator leaves out get the model default."""

    def __init__(self, cursor, timings: dict):
        self.cursor = cursor
        self.timings = timings

    def copy(self, model_or_table, columns: list[str], rows, label: str | None = None) -> int:
        if isinstance(model_or_table, str):
            table, extra = model_or_table, {}
        else:
            table = model_or_table._meta.db_table
            extra = defaults_for(model_or_table, columns)
        names = columns + list(extra)
        tail = [copy_text(v) for v in extra.values()]
        started = time.monotonic()
        count = 0
        buffer = []
        sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
        with self.cursor.copy(sql) as copy:
            for row in rows:
                # A row is a tuple of values, or a line already in COPY's format.
                line = row if isinstance(row, str) else "\t".join(copy_text(v) for v in row)
                buffer.append("\t".join([line, *tail]) if tail else line)
                count += 1
                if len(buffer) >= 5000:
                    copy.write("\n".join(buffer) + "\n")
                    buffer.clear()
            if buffer:
                copy.write("\n".join(buffer) + "\n")
        seconds = time.monotonic() - started
        key = label or table
        rows_before, secs_before = self.timings.get(key, (0, 0.0))
        self.timings[key] = (rows_before + count, secs_before + seconds)
        print(f"  {key}: {count:,} rows in {seconds:.1f} s", flush=True)
        return count


def defaults_for(model, given: list[str]) -> dict:
    """Columns of `model` not in `given`, with their Python default (for columns added later)."""
    now = dt.datetime.now(TZ)
    extra = {}
    for field in model._meta.concrete_fields:
        if field.column in given or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            extra[field.column] = now
        elif field.has_default():
            extra[field.column] = field.get_default()
        elif field.null:
            extra[field.column] = None
        else:
            raise SystemExit(
                f"{model._meta.label}.{field.name} has no default: teach bench/generate_scale.py "
                "what to put there"
            )
    return extra


def weighted_index(cumulative: list[float], rng: random.Random) -> int:
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


def at(day: dt.date, rng: random.Random) -> dt.datetime:
    """An office-hours moment of `day` in Asia/Shanghai."""
    return dt.datetime(
        day.year,
        day.month,
        day.day,
        8 + rng.randrange(10),
        rng.randrange(60),
        rng.randrange(60),
        tzinfo=TZ,
    )


class Generator:
    def __init__(self, workers: int, cases: int, seed: int, today: dt.date, per_town: int):
        self.per_town = per_town
        self.n_workers = workers
        self.n_cases = cases
        self.rng = random.Random(seed)
        self.today = today
        self.now = dt.datetime.now(TZ)
        self.first_year = today.year - YEARS + 1
        self.timings: dict[str, tuple[int, float]] = {}
        self.summary: dict[str, int] = {}

    # ------------------------------------------------------------------ unions and users
    def unions(self, loader):
        from unions.models import Union

        rng = self.rng
        rows = [
            (
                1,
                "NH",
                "佛山市总工会（压测）",
                "district",
                "",
                None,
                True,
                "0757-83333333",
                "00000001/",
            )
        ]
        self.towns = []  # (id, code, name)
        self.grassroots = []  # (id, town id, code, name)
        uid = 1
        for t in range(TOWNS):
            uid += 1
            code, name = TOWN_NAMES[t]
            self.towns.append((uid, code, name))
            rows.append(
                (
                    uid,
                    code,
                    name,
                    "town",
                    "",
                    1,
                    True,
                    f"0757-8{rng.randrange(10**6):06d}",
                    f"00000001/{uid:08d}/",
                )
            )
        for tid, tcode, tname in self.towns:
            for i in range(self.per_town):
                uid += 1
                kind, suffix = UNION_KINDS[i % 3]
                place = tname[:2]
                name = f"{place}{rng.choice(PLACE_WORDS)}{i + 1:03d}{suffix}"
                code = f"{tcode}-{'SEV'[i % 3]}{i + 1:03d}"
                self.grassroots.append((uid, tid, code, name))
                rows.append(
                    (
                        uid,
                        code,
                        name,
                        "grassroots",
                        kind,
                        tid,
                        True,
                        "",
                        f"00000001/{tid:08d}/{uid:08d}/",
                    )
                )
        loader.copy(
            Union,
            ["id", "code", "name", "level", "kind", "parent_id", "is_active", "phone", "path"],
            rows,
        )
        # Where cases and workers fall: the towns' weights times a Zipf-like share per union.
        weights = []
        for t, _town in enumerate(self.towns):
            inner = [1 / (r + 1) ** 0.6 for r in range(self.per_town)]
            total = sum(inner)
            weights += [TOWN_WEIGHTS[t] * w / total for w in inner]
        self.union_cum = list(itertools.accumulate(weights))
        self.town_of = {g[0]: g[1] for g in self.grassroots}
        self.code_of = {t[0]: t[1] for t in self.towns}

    def users(self, loader):
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group

        from unions.models import User
        from unions.roles import role_group_name

        password = make_password(BENCH_PASSWORD)
        joined = dt.datetime(self.first_year, 1, 1, 9, tzinfo=TZ)
        rows = []
        groups = {g.name: g.id for g in Group.objects.all()}
        memberships = []
        uid = 0

        def add(username, full_name, union_id, role, superuser=False):
            # As unions.services.user_set_role: the admin is for the town and the district.
            staff = superuser or role in ("town_reviewer", "district_officer")
            nonlocal uid
            uid += 1
            rows.append(
                (
                    uid,
                    password,
                    None,
                    superuser,
                    username,
                    "",
                    "",
                    "",
                    staff,
                    True,
                    joined,
                    full_name,
                    "",
                    union_id,
                    role,
                )
            )
            if role:
                memberships.append((uid, uid, groups[role_group_name(role)]))
            return uid

        self.admin_user = add("bench-admin", "系统管理员", None, "", superuser=True)
        self.officers = [
            add(f"officer-{i}", f"区总工会{n}", 1, "district_officer")
            for i, n in enumerate(["李文辉", "何婉婷"], 1)
        ]
        self.reviewer_of = {}
        for tid, code, _name in self.towns:
            self.reviewer_of[tid] = add(f"rv-{code.lower()}", f"{code}审核员", tid, "town_reviewer")
        self.caseworker_of = {}
        for gid, _tid, code, _name in self.grassroots:
            self.caseworker_of[gid] = add(f"cw-{code.lower()}", f"{code}经办人", gid, "caseworker")
        cols = [
            "id",
            "password",
            "last_login",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "full_name",
            "phone",
            "union_id",
            "role",
        ]
        loader.copy(User, cols, rows)
        loader.copy(User.groups.through, ["id", "user_id", "group_id"], memberships)
        self.summary["users"] = len(rows)

    def policies(self):
        from relief.models import HardshipCategory, Policy

        # The seeded policy applies from 2018; the cases of earlier years need the one before.
        first = dt.date(self.first_year, 1, 1)
        if not Policy.objects.filter(effective_from__lte=first).exists():
            Policy.objects.create(
                effective_from=first,
                name=f"临时救助办法（{self.first_year}年版）",
                max_per_payout=Decimal("5000.00"),
            )
        self.policies_by_date = sorted(
            Policy.objects.values_list("effective_from", "id", "max_per_payout")
        )
        self.categories = list(
            HardshipCategory.objects.filter(is_active=True).values_list("id", "name")
        )

    def policy_for(self, day):
        current = None
        for effective, pid, cap in self.policies_by_date:
            if effective <= day:
                current = (pid, cap)
        return current

    # ------------------------------------------------------------------ workers
    def id_number(self, used: set) -> str:
        rng = self.rng
        while True:
            born = dt.date(1962, 1, 1) + dt.timedelta(days=rng.randrange(0, 42 * 365))
            first17 = f"{rng.choice(AREAS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
            number = first17 + check_digit(first17)
            if number not in used:
                used.add(number)
                return number

    def name(self) -> str:
        rng = self.rng
        given = rng.choice(GIVEN_CHARS) + (rng.choice(GIVEN_CHARS) if rng.random() < 0.8 else "")
        return rng.choice(SURNAMES) + given

    def workers(self, loader):
        from relief.models import Worker

        rng = self.rng
        used: set[str] = set()
        self.worker_union = [0] * (self.n_workers + 1)
        self.worker_name = [""] * (self.n_workers + 1)
        self.worker_created = [None] * (self.n_workers + 1)
        start = dt.date(self.first_year - 1, 6, 1)
        span = (self.today - start).days

        def rows():
            for wid in range(1, self.n_workers + 1):
                union_id, town_id, _code, _uname = self.grassroots[
                    weighted_index(self.union_cum, rng)
                ]
                name = self.name()
                created = at(start + dt.timedelta(days=rng.randrange(span)), rng)
                self.worker_union[wid] = union_id
                self.worker_name[wid] = name
                self.worker_created[wid] = created
                place = self.code_of[town_id]
                yield (
                    wid,
                    name,
                    self.id_number(used),
                    f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
                    rng.choice(EMPLOYERS).format(t=place),
                    union_id,
                    f"佛山市{place}区{rng.choice('东西南北')}路{rng.randrange(1, 300)}号",
                    rng.choice(["广东佛山", "广东湛江", "广西玉林", "湖南郴州", "四川南充", ""]),
                    rng.choice(["良好", "良好", "一般", "患慢性病", "残疾"]),
                    rng.random() < 0.6,
                    rng.choice(BANKS),
                    "佛山分行营业部",
                    f"62{rng.randrange(10**16):016d}",
                    "",
                    created,
                    created,
                )

        cols = [
            "id",
            "name",
            "id_number",
            "phone",
            "employer",
            "union_id",
            "address",
            "hukou",
            "health",
            "realname_verified",
            "bank_name",
            "bank_branch",
            "bank_card",
            "notes",
            "created_at",
            "updated_at",
        ]
        loader.copy(Worker, cols, rows())
        self.summary["workers"] = self.n_workers

    # ------------------------------------------------------------------ cases
    def plan_cases(self):
        """Which workers are helped in which years: [(worker, [years...])], about n_cases cases."""
        rng = self.rng
        years = list(range(self.first_year, self.today.year + 1))
        plans = []
        made = 0
        wid_order = rng.sample(range(1, self.n_workers + 1), self.n_workers)
        # Cases follow the unions' weights, like the workers; a third come back in later years.
        for wid in wid_order:
            if made >= self.n_cases:
                break
            k = min(
                rng.choices([1, 2, 3, 4, 6], weights=[60, 22, 10, 5, 3])[0], self.n_cases - made
            )
            plans.append((wid, sorted(rng.sample(years, k))))
            made += k
        return plans

    def outcome(self, year: int, last: bool) -> str:
        """Where a case ends up (before the cut at today): a final state or a stage it stops at."""
        rng = self.rng
        if year == self.today.year:
            choices = {
                "closed": 30,
                "disbursed": 15,
                "rejected": 9,
                "withdrawn": 8,
                "approved": 10,
                "recommended": 7,
                "verified": 8,
                "returned": 5,
                "submitted": 10,
                "draft": 8,
            }
        else:
            choices = {
                "closed": 57,
                "disbursed": 18,
                "rejected": 12,
                "withdrawn": 9,
                "approved": 1.5,
                "draft": 1,
                "returned": 0.5,
            }
        state = rng.choices(list(choices), weights=list(choices.values()))[0]
        if not last and state in (
            "draft",
            "submitted",
            "returned",
            "verified",
            "recommended",
            "approved",
        ):
            state = "closed"  # a worker has at most one case in progress: only the last one
        return state

    def cases(self, loader):
        from relief.models import (
            Application,
            AuditEntry,
            Disbursement,
            FollowUp,
            HomeVisit,
            ReferenceCounter,
        )

        rng = self.rng
        plans = self.plan_cases()
        # One case with a long history on purpose, in the largest union (so in the largest town):
        # returned and resubmitted more often the more data there is (4 times at 800 cases, 12 at
        # 4,000 and more), paid in instalments (2 at 800 cases, 6 from 4,000), the first one
        # reversed and paid again. The admin change page of it shows
        # whether that page's queries grow with a case's history (tests/test_page_query_counts).
        long_worker = next(
            (wid for wid, _years in plans if self.worker_union[wid] == self.grassroots[0][0]), None
        )
        long_loops = min(12, 2 + self.n_cases // 400)
        # Applications first, numbered per town and year in date order (references XQ-2024-0007).
        cases = []
        for wid, years in plans:
            for i, year in enumerate(years):
                last_day = self.today if year == self.today.year else dt.date(year, 12, 31)
                day = dt.date(year, 1, 1) + dt.timedelta(
                    days=rng.randrange((last_day - dt.date(year, 1, 1)).days + 1)
                )
                cases.append((day, wid, i == len(years) - 1))
        cases.sort()
        counters: dict[tuple[int, int], int] = {}
        apps, categories, visits, follow_ups, audits, payouts = [], [], [], [], [], []
        self.account_paid: dict[tuple[int, str, int], Decimal] = {}
        ids = {"audit": self.n_workers, "payout": 0, "visit": 0, "follow": 0, "link": 0}
        states = {}

        def audit(
            app_id,
            wid,
            actor,
            when,
            action,
            from_state="",
            to_state="",
            comment="",
            changes=None,
            payout=None,
            source="web",
        ):
            ids["audit"] += 1
            row = (ids["audit"], app_id, wid, payout, actor, when, action, from_state, to_state)
            audits.append("\t".join(copy_text(v) for v in (*row, comment, changes or {}, source)))

        for app_id, (day, wid, last) in enumerate(cases, 1):
            union_id = self.worker_union[wid]
            town_id = self.town_of[union_id]
            key = (town_id, day.year)
            counters[key] = counters.get(key, 0) + 1
            reference = f"{self.code_of[town_id]}-{day.year}-{counters[key]:04d}"
            pid, cap = self.policy_for(day)
            cw, rv, officer = (
                self.caseworker_of[union_id],
                self.reviewer_of[town_id],
                rng.choice(self.officers),
            )
            requested = Decimal(rng.randrange(10, 201) * 100)
            income = Decimal(rng.randrange(0, 80) * 100)
            medical = Decimal(rng.randrange(0, 40) * 100)
            target = self.outcome(day.year, last)
            is_long = wid == long_worker
            if is_long:
                target, long_worker = "closed", None
            story = rng.choice(STORIES).format(d=rng.choice(DETAILS))
            cats = rng.sample(self.categories, 1 if rng.random() < 0.8 else 2)
            # The timeline: each step a few days after the one before, cut at now.
            t = at(day, rng)
            created = t
            stamps = {}
            history = []  # (action, from, to, actor, when, changes)
            state = "draft"
            facts = {
                "narrative": story,
                "household_monthly_income": f"{income:.2f}",
                "monthly_medical_expenses": f"{medical:.2f}",
                "requested_amount": f"{requested:.2f}",
                "application_date": day.isoformat(),
                "policy": str(pid),
                "categories": ", ".join(sorted(c[1] for c in cats)),
            }
            create_changes = {k: [None, v] for k, v in facts.items()}
            recommended = approved = None
            paid = Decimal(0)
            case_payouts = []  # (amount, paid_on, source, reverses_index, when)
            visit = follow = None
            draft_only = target == "draft"

            def step(days_lo, days_hi):
                nonlocal t
                t = t + dt.timedelta(days=rng.randint(days_lo, days_hi), hours=rng.randrange(8))
                return t if t <= self.now else None

            def go(action, to, actor, changes=None, history=history, stamps=stamps):
                nonlocal state
                when = step(0, 6) if action in ("submit", "resubmit") else step(2, 15)
                if when is None:
                    return False
                history.append((action, state, to, actor, when, changes or {}))
                stamps[to] = when
                state = to
                return True

            ok = True
            if not draft_only:
                ok = go("submit", "submitted", cw)
                # Some cases go back and forth: returned for more information, resubmitted.
                loops = (
                    long_loops if is_long else rng.choices([0, 1, 2, 4], weights=[85, 11, 3, 1])[0]
                )
                for _ in range(loops):
                    if not ok or target == "returned":
                        break
                    ok = go("return_for_info", "returned", rv) and go("resubmit", "submitted", cw)
                if ok and target == "returned":
                    ok = go("return_for_info", "returned", rv)
                elif ok and target == "withdrawn":
                    ok = go("withdraw", "withdrawn", cw)
                elif ok and target != "submitted":
                    # A home visit before the town verifies.
                    when = step(1, 10)
                    if when is not None:
                        visit = (when.date(), when)
                        history.append(("home_visit", "", "", rv, when, {}))
                        ok = go("verify", "verified", rv)
                    else:
                        ok = False
                    # Rejected by the town after its visit, or by the district once recommended.
                    by_district = rng.random() < 0.3
                    if ok and target == "rejected" and not by_district:
                        ok = go("reject", "rejected", rv)
                    elif ok and target != "verified":
                        recommended = min(requested, cap, Decimal(rng.randrange(10, 101) * 100))
                        ok = go(
                            "recommend",
                            "recommended",
                            rv,
                            {"recommended_amount": [None, f"{recommended:.2f}"]},
                        )
                        if ok and target == "rejected":
                            ok = go("reject", "rejected", officer)
                        elif ok and target != "recommended":
                            approved = (
                                recommended
                                if rng.random() < 0.8
                                else max(
                                    Decimal("500"),
                                    (recommended * Decimal("0.8")).quantize(Decimal("100")),
                                )
                            )
                            approved = min(approved, recommended)
                            ok = go(
                                "approve",
                                "approved",
                                officer,
                                {"approved_amount": [None, f"{approved:.2f}"]},
                            )
                            if ok and target != "approved":
                                # Paid at once, in two parts, or paid, returned by the bank, paid
                                # again.
                                how = (
                                    "reversed"
                                    if is_long
                                    else rng.choices(
                                        ["one", "two", "reversed"], weights=[85, 10, 5]
                                    )[0]
                                )
                                parts = (
                                    [approved]
                                    if how != "two"
                                    else [
                                        (approved / 2).quantize(Decimal("1")),
                                        approved - (approved / 2).quantize(Decimal("1")),
                                    ]
                                )
                                if how == "reversed":
                                    parts = [approved, -approved, approved]
                                if is_long:
                                    # In instalments, more of them the more data: the first
                                    # one returned by the bank and paid again.
                                    n = max(2, long_loops // 2)
                                    each = (approved / n).quantize(Decimal("1"))
                                    parts = [each] * (n - 1) + [approved - each * (n - 1)]
                                    parts = [each, -each, *parts]
                                for amount in parts:
                                    when = step(2, 12)
                                    if when is None:
                                        ok = False
                                        break
                                    before = state
                                    paid += amount
                                    if amount < 0:
                                        to = "approved" if before == "disbursed" else before
                                        case_payouts.append((amount, when, len(case_payouts) - 1))
                                        history.append(
                                            (
                                                "reverse",
                                                before,
                                                to,
                                                officer,
                                                when,
                                                {
                                                    "paid_amount": [
                                                        f"{paid - amount:.2f}",
                                                        f"{paid:.2f}",
                                                    ]
                                                },
                                                len(case_payouts) - 1,
                                            )
                                        )
                                    else:
                                        to = "disbursed" if paid == approved else before
                                        case_payouts.append((amount, when, None))
                                        history.append(
                                            (
                                                "disburse",
                                                before,
                                                to,
                                                officer,
                                                when,
                                                {
                                                    "paid_amount": [
                                                        f"{paid - amount:.2f}",
                                                        f"{paid:.2f}",
                                                    ]
                                                },
                                                len(case_payouts) - 1,
                                            )
                                        )
                                    if to != before:
                                        stamps[to] = when
                                        if to == "approved":
                                            stamps.pop("disbursed", None)
                                    state = to
                                if ok and target == "closed":
                                    when = step(10, 60)
                                    if when is not None:
                                        follow = (when.date(), when)
                                        history.append(("follow_up", "", "", rv, when, {}))
                                        go("close", "closed", rv)
            # In progress only when it is the worker's last case (cut at today may leave one).
            states[state] = states.get(state, 0) + 1
            apps.append(
                tuple_line(
                    app_id,
                    reference,
                    wid,
                    union_id,
                    story if state != "draft" or rng.random() < 0.5 else "",
                    "情况属实，同意上报。" if state != "draft" else "",
                    income,
                    medical,
                    requested,
                    recommended,
                    approved,
                    paid,
                    pid,
                    day,
                    "",
                    "",
                    "",
                    state,
                    1 + len(history),
                    cw,
                    created,
                    history[-1][4] if history else created,
                    stamps.get("submitted"),
                    stamps.get("returned"),
                    stamps.get("verified"),
                    stamps.get("recommended"),
                    stamps.get("approved"),
                    stamps.get("disbursed"),
                    stamps.get("closed"),
                    stamps.get("rejected"),
                    stamps.get("withdrawn"),
                    follow is not None,
                )
            )
            for cid, _cname in cats:
                ids["link"] += 1
                categories.append((ids["link"], app_id, cid))
            audit(app_id, wid, cw, created, "create", "", "draft", changes=create_changes)
            payout_ids = []
            case_rows = []
            for amount, when, reverses in case_payouts:
                ids["payout"] += 1
                payout_ids.append(ids["payout"])
                if reverses is None:
                    source = rng.choices(["district", "town", "donation"], weights=[55, 30, 15])[0]
                    fund = (town_id, source, when.year)
                    self.account_paid[fund] = self.account_paid.get(fund, Decimal(0)) + amount
                    payouts.append(
                        (
                            ids["payout"],
                            app_id,
                            amount,
                            when.date(),
                            "bank",
                            source,
                            f"PZ{when.year}-{ids['payout']:07d}",
                            town_id,
                            when.year,
                            None,
                            "",
                            "",
                            officer,
                            when,
                        )
                    )
                else:
                    original = case_rows[reverses]
                    fund = (town_id, original[5], original[8])
                    self.account_paid[fund] += amount
                    payouts.append(
                        (
                            ids["payout"],
                            app_id,
                            amount,
                            when.date(),
                            "bank",
                            original[5],
                            original[6],
                            town_id,
                            original[8],
                            original[0],
                            "银行退回：账户状态异常",
                            "",
                            officer,
                            when,
                        )
                    )
                case_rows.append(payouts[-1])
            for entry in history:
                action, frm, to, actor, when, changes = entry[:6]
                payout = payout_ids[entry[6]] if len(entry) > 6 else None
                audit(
                    app_id,
                    wid,
                    actor,
                    when,
                    action,
                    frm,
                    to,
                    changes=changes,
                    payout=payout,
                    comment="银行退回，重新发放" if action == "reverse" else "",
                )
            if visit:
                ids["visit"] += 1
                visits.append(
                    (
                        ids["visit"],
                        app_id,
                        visit[0],
                        f"{self.code_of[town_id]}审核员、{self.worker_name[wid][0]}社区干部",
                        "入户核实，情况属实，家庭困难。",
                        income,
                        medical,
                        rv,
                        visit[1],
                    )
                )
            if follow:
                ids["follow"] += 1
                follow_ups.append(
                    (
                        ids["follow"],
                        app_id,
                        follow[0],
                        "phone",
                        "电话回访，救助款已收到，身体正在康复。",
                        rv,
                        follow[1],
                    )
                )

        self.states = states
        self.case_count = len(apps)
        # Worker audit rows (the roster import) precede the cases' rows in id order.
        with_workers = (
            (
                wid,
                None,
                wid,
                None,
                self.caseworker_of[self.worker_union[wid]],
                self.worker_created[wid],
                "import",
                "",
                "",
                "",
                {},
                "import:职工名册.xlsx",
            )
            for wid in range(1, self.n_workers + 1)
        )
        app_cols = [
            "id",
            "reference",
            "worker_id",
            "union_id",
            "narrative",
            "grassroots_opinion",
            "household_monthly_income",
            "monthly_medical_expenses",
            "requested_amount",
            "recommended_amount",
            "approved_amount",
            "paid_amount",
            "policy_id",
            "application_date",
            "payout_bank_name",
            "payout_bank_branch",
            "payout_card",
            "state",
            "version",
            "created_by_id",
            "created_at",
            "updated_at",
            "submitted_at",
            "returned_at",
            "verified_at",
            "recommended_at",
            "approved_at",
            "disbursed_at",
            "closed_at",
            "rejected_at",
            "withdrawn_at",
            "followed_up",
        ]
        loader.copy(Application, app_cols, apps)
        del apps
        loader.copy(
            Application.categories.through,
            ["id", "application_id", "hardshipcategory_id"],
            categories,
        )
        loader.copy(
            HomeVisit,
            [
                "id",
                "application_id",
                "visit_date",
                "visitors",
                "findings",
                "verified_household_income",
                "verified_monthly_expenses",
                "recorded_by_id",
                "recorded_at",
            ],
            visits,
        )
        loader.copy(
            FollowUp,
            [
                "id",
                "application_id",
                "follow_up_date",
                "method",
                "findings",
                "recorded_by_id",
                "recorded_at",
            ],
            follow_ups,
        )
        loader.copy(
            ReferenceCounter,
            ["id", "town_id", "year", "last"],
            [(i, k[0], k[1], v) for i, (k, v) in enumerate(sorted(counters.items()), 1)],
        )
        self.funds(loader)
        cursor = loader.cursor
        # The payout triggers look up sums by index; their plans are made while the table is
        # empty, when the planner would pick (and keep) a sequential scan (scale-notes.md).
        cursor.execute("SET enable_seqscan = off")
        by_year: dict[int, list] = {}
        for row in payouts:
            by_year.setdefault(row[8], []).append(row)
        pay_cols = [
            "id",
            "application_id",
            "amount",
            "paid_on",
            "method",
            "fund_source",
            "voucher_no",
            "town_id",
            "fund_year",
            "reverses_id",
            "reason",
            "notes",
            "recorded_by_id",
            "recorded_at",
        ]
        # One COPY per fund year: the statement trigger checks each year's accounts once; a
        # reversal always follows its payout in id order and in the same fund year.
        for year in sorted(by_year):
            loader.copy(Disbursement, pay_cols, by_year[year], label="relief_disbursement")
        cursor.execute("SET enable_seqscan = on")
        self.summary["payouts"] = len(payouts)
        audit_cols = [
            "id",
            "application_id",
            "worker_id",
            "disbursement_id",
            "actor_id",
            "at",
            "action",
            "from_state",
            "to_state",
            "comment",
            "changes",
            "source",
        ]
        loader.copy(AuditEntry, audit_cols, with_workers, label="relief_auditentry")
        loader.copy(AuditEntry, audit_cols, audits, label="relief_auditentry")
        self.summary["audit entries"] = self.n_workers + len(audits)
        self.summary["cases"] = self.case_count
        self.summary["home visits"] = len(visits)
        self.summary["follow-ups"] = len(follow_ups)

    # ------------------------------------------------------------------ funds
    def funds(self, loader):
        """Accounts per town, source and year; income that covers every payout drawn on them."""
        from relief.models import DonationCampaign, DonationCollection, FundAccount, FundIncome

        rng = self.rng
        accounts, incomes, campaigns, collections = [], [], [], []
        income_id = 0
        for year in range(self.first_year, self.today.year + 1):
            for tid, _code, _name in self.towns:
                rv = self.reviewer_of[tid]
                campaign_id = len(campaigns) + 1
                campaigns.append(
                    (
                        campaign_id,
                        tid,
                        year,
                        dt.date(year, 4, 1),
                        dt.date(year, 6, 30),
                        rv,
                        at(dt.date(year, 3, 20), rng),
                    )
                )
                donated = Decimal(0)
                donation_incomes = []
                for gid, gtown, _gcode, _gname in self.grassroots:
                    if gtown != tid:
                        continue
                    donors = rng.randrange(20, 400)
                    amount = Decimal(donors * 10 + rng.randrange(0, 50) * 10)
                    day = dt.date(year, 4, 1) + dt.timedelta(days=rng.randrange(90))
                    if day > self.today:
                        continue
                    collection_id = len(collections) + 1
                    collections.append(
                        (
                            collection_id,
                            campaign_id,
                            gid,
                            day,
                            donors,
                            amount,
                            f"SY{year}{gid:05d}",
                            self.caseworker_of[gid],
                            at(day, rng),
                        )
                    )
                    donated += amount
                    donation_incomes.append((amount, day, collection_id, rv))
                for source in ("district", "town", "donation"):
                    account_id = len(accounts) + 1
                    paid = self.account_paid.get((tid, source, year), Decimal(0))
                    if source == "donation":
                        entries = [(a, d, "", c, "十元捐") for a, d, c, _rv in donation_incomes]
                        total = donated
                        if total < paid:  # a top-up from the town's reserve so the pot covers it
                            top_up = paid - total + Decimal(rng.randrange(10, 100) * 100)
                            entries.append((top_up, dt.date(year, 7, 1), "", None, "十元捐补足"))
                            total += top_up
                    else:
                        total = (paid * Decimal(rng.uniform(1.05, 1.3))).quantize(
                            Decimal("100")
                        ) + Decimal(20000)
                        parts = rng.randrange(2, 5)
                        each = (total / parts).quantize(Decimal("1"))
                        amounts = [each] * (parts - 1) + [total - each * (parts - 1)]
                        doc = (
                            "南工拨〔{y}〕{n}号" if source == "district" else "镇工自筹〔{y}〕{n}号"
                        )
                        entries = [
                            (
                                a,
                                dt.date(year, 1 + 3 * i, 10),
                                doc.format(y=year, n=rng.randrange(1, 90)),
                                None,
                                "",
                            )
                            for i, a in enumerate(amounts)
                        ]
                    accounts.append((account_id, tid, source, year, total, paid))
                    for amount, day, document, collection, note in entries:
                        income_id += 1
                        incomes.append(
                            (
                                income_id,
                                account_id,
                                amount,
                                min(day, self.today),
                                document,
                                collection,
                                note,
                                self.officers[0] if source == "district" else rv,
                                at(min(day, self.today), rng),
                            )
                        )
        loader.copy(
            FundAccount, ["id", "town_id", "source", "year", "income_total", "paid_total"], accounts
        )
        loader.copy(
            DonationCampaign,
            ["id", "town_id", "year", "starts_on", "ends_on", "created_by_id", "created_at"],
            campaigns,
        )
        loader.copy(
            DonationCollection,
            [
                "id",
                "campaign_id",
                "union_id",
                "collected_on",
                "donor_count",
                "amount",
                "receipt_numbers",
                "recorded_by_id",
                "recorded_at",
            ],
            collections,
        )
        loader.copy(
            FundIncome,
            [
                "id",
                "account_id",
                "amount",
                "received_on",
                "document_no",
                "collection_id",
                "note",
                "recorded_by_id",
                "recorded_at",
            ],
            incomes,
        )
        self.summary["fund accounts"] = len(accounts)
        self.summary["fund income"] = len(incomes)
        self.summary["donation collections"] = len(collections)


# ---------------------------------------------------------------------- checks
CHECKS = {
    "no case paid above its approved amount (payouts = paid_amount)": """
        SELECT a.reference FROM relief_application a
        LEFT JOIN (SELECT application_id, SUM(amount) s FROM relief_disbursement GROUP BY 1) d
               ON d.application_id = a.id
        WHERE COALESCE(d.s, 0) <> a.paid_amount OR a.paid_amount > COALESCE(a.approved_amount, 0)
           OR a.paid_amount < 0""",
    "no fund account below zero (totals = their entries)": """
        SELECT f.id::text FROM relief_fundaccount f
        LEFT JOIN (SELECT account_id, SUM(amount) s FROM relief_fundincome GROUP BY 1) i
               ON i.account_id = f.id
        LEFT JOIN (SELECT town_id, fund_source, fund_year, SUM(amount) s FROM relief_disbursement
                   GROUP BY 1, 2, 3) d
               ON (d.town_id, d.fund_source, d.fund_year) = (f.town_id, f.source, f.year)
        WHERE COALESCE(i.s, 0) <> f.income_total OR COALESCE(d.s, 0) <> f.paid_total
           OR f.paid_total > f.income_total""",
    "payouts within the policy's cap per payout": """
        SELECT a.reference FROM relief_disbursement d
        JOIN relief_application a ON a.id = d.application_id
        JOIN relief_policy p ON p.id = a.policy_id
        WHERE d.amount > p.max_per_payout""",
    "never two cases in progress for one worker": """
        SELECT worker_id::text FROM relief_application
        WHERE state IN ('draft', 'submitted', 'returned', 'verified', 'recommended', 'approved')
        GROUP BY worker_id HAVING COUNT(*) > 1""",
    "an audit row for every payout": """
        SELECT d.id::text FROM relief_disbursement d
        WHERE NOT EXISTS (SELECT 1 FROM relief_auditentry e WHERE e.disbursement_id = d.id)""",
    "the last audited state change of a case is its state": """
        SELECT a.reference FROM relief_application a
        JOIN LATERAL (SELECT to_state FROM relief_auditentry e
                      WHERE e.application_id = a.id AND e.to_state <> ''
                      ORDER BY e.id DESC LIMIT 1) last ON true
        WHERE last.to_state <> a.state""",
    "a verified case has its home visit, a closed one its follow-up": """
        SELECT a.reference FROM relief_application a
        WHERE (a.verified_at IS NOT NULL
               OR a.state IN ('recommended', 'approved', 'disbursed', 'closed'))
          AND NOT EXISTS (SELECT 1 FROM relief_homevisit v WHERE v.application_id = a.id)
        UNION ALL
        SELECT a.reference FROM relief_application a WHERE a.state = 'closed'
          AND NOT EXISTS (SELECT 1 FROM relief_followup f WHERE f.application_id = a.id)""",
    "a case is marked followed up exactly when a follow-up is on file": """
        SELECT a.reference FROM relief_application a
        WHERE a.followed_up <> EXISTS (SELECT 1 FROM relief_followup f
                                       WHERE f.application_id = a.id)""",
    "reference counters at the last number used": """
        SELECT c.id::text FROM relief_referencecounter c
        JOIN unions_union t ON t.id = c.town_id
        LEFT JOIN (SELECT split_part(reference, '-', 1) AS code,
                          split_part(reference, '-', 2)::int AS year,
                          COUNT(*) AS n, MAX(split_part(reference, '-', 3)::int) AS last
                   FROM relief_application GROUP BY 1, 2) a
               ON a.code = t.code AND a.year = c.year
        WHERE c.last <> COALESCE(a.n, 0) OR c.last <> COALESCE(a.last, 0)""",
}


BULK_TABLES = (
    "relief_worker",
    "relief_application",
    "relief_application_categories",
    "relief_homevisit",
    "relief_followup",
    "relief_disbursement",
    "relief_auditentry",
    "relief_fundincome",
    "relief_donationcollection",
)


def drop_foreign_keys(cursor) -> list[tuple[str, str, str]]:
    """The foreign keys of the tables loaded in bulk, dropped until the end of the load.

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: kept, each of the millions of
    rows would queue a check run one by one at COMMIT (over ten minutes at full size). Added
    back after the load, each key is validated by one query over the whole table. CHECK
    constraints, unique indexes and the triggers stay in place throughout.
    """
    cursor.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s) "
        "ORDER BY 1, 2",
        [list(BULK_TABLES)],
    )
    keys = cursor.fetchall()
    for table, name, _definition in keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    return keys


def totals_models():
    from relief.models import MonthlyPerson, MonthlyTotal

    return (MonthlyTotal, MonthlyPerson)


def run_checks(cursor) -> list[dict]:
    results = []
    for name, sql in CHECKS.items():
        cursor.execute(sql + " LIMIT 5")
        broken = [r[0] for r in cursor.fetchall()]
        results.append({"check": name, "broken": len(broken), "examples": broken})
        print(f"  {'ok    ' if not broken else 'BROKEN'} {name} {broken or ''}", flush=True)
    return results


def results_section(data: dict, command: str) -> str:
    """bench/RESULTS.md's section for a generator run (between markers, replaced on a re-run)."""
    size = data["database_bytes"] / 2**30
    lines = [
        "<!-- scale-generator:begin -->",
        f"### The generated data set ({data.get('when', '')})",
        "",
        f"`{command}`",
        "",
        f"{data['workers']:,} workers, {data['cases']:,} cases; states: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(data["states"].items(), key=lambda x: -x[1]))
        + ". "
        + ", ".join(f"{k} {v:,}" for k, v in data["sizes"].items())
        + f". Database {size:.2f} GiB on disk.",
        "",
        f"Wall time {data['total_s']:.0f} s: migrate {data['migrate_s']} s, load (COPY, triggers, "
        f"foreign keys) {data['load_s']} s, ANALYZE {data['analyze_s']} s, checks "
        f"{data['checks_s']} s. Load average at the start {data.get('load_start', '?')}, at "
        f"the end {data.get('load_end', '?')} (a shared machine: other sessions' tests ran "
        "meanwhile).",
        "",
        "| table | rows | seconds | rows/s |",
        "|---|---|---|---|",
    ]
    for table, figures in data["timings"].items():
        rows, seconds = figures["rows"], figures["seconds"]
        rate = f"{rows / seconds:,.0f}" if seconds else "-"
        lines.append(f"| {table} | {rows:,} | {seconds} | {rate} |")
    lines += ["", "Checks after the load (all in SQL over every row):", ""]
    lines += [f"- {c['check']}: {'ok' if not c['broken'] else 'BROKEN'}" for c in data["checks"]]
    lines.append("<!-- scale-generator:end -->")
    return "\n".join(lines)


def write_section(path: Path, section: str, begin: str, end: str) -> None:
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1 M workers, 300 k cases")
    parser.add_argument("--workers", type=int, help="overrides --scale")
    parser.add_argument("--cases", type=int, help="overrides --scale")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--unions-per-town", type=int, default=UNIONS_PER_TOWN, help="grassroots unions per town"
    )
    parser.add_argument(
        "--recreate", action="store_true", help="DROP and CREATE the database first"
    )
    parser.add_argument("--json", type=Path, help="write timings, sizes and checks here")
    parser.add_argument("--results", type=Path, help="bench/RESULTS.md: write a section there")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (COPY, triggers)")
    workers = args.workers or max(200, round(FULL_WORKERS * args.scale))
    cases = args.cases or max(60, round(FULL_CASES * args.scale))
    started = time.monotonic()
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.recreate:
        recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    t = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.monotonic() - t
    from relief.models import Worker

    if Worker.objects.exists():
        raise SystemExit(
            "the database already holds workers: use --recreate (drops it) or an empty one"
        )
    gen = Generator(workers, cases, args.seed, timezone.localdate(), args.unions_per_town)
    print(
        f"generating {workers:,} workers, {cases:,} cases ({gen.first_year}-{gen.today.year})",
        flush=True,
    )
    with transaction.atomic(), connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg's own cursor, for COPY
        loader = Loader(cursor, gen.timings)
        foreign_keys = drop_foreign_keys(cursor)
        gen.policies()
        gen.unions(loader)
        gen.users(loader)
        gen.workers(loader)
        gen.cases(loader)
        # Explicit ids above: move each sequence past them.
        for model in django.apps.apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            pk = model._meta.pk
            if pk is None or pk.get_internal_type() not in ("AutoField", "BigAutoField"):
                continue
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk.column])
            seq = cursor.fetchone()[0]
            if seq:
                cursor.execute(
                    f"SELECT setval(%s, COALESCE((SELECT MAX({pk.column}) FROM {table}), 0) + 1,"
                    " false)",
                    [seq],
                )
        # Every foreign key back, each checked over all rows at once (as pg_restore does).
        t = time.monotonic()
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        gen.timings["foreign keys (re-added, checked)"] = (len(foreign_keys), time.monotonic() - t)
        print(f"  {len(foreign_keys)} foreign keys checked in {time.monotonic() - t:.1f} s")
    # The dashboard's and the reports' monthly totals (relief.services.totals), derived from
    # the ledger just loaded, as the backfill migration and `check_totals --repair` do.
    from django.db import transaction

    from relief.services import totals

    t = time.monotonic()
    with transaction.atomic():
        totals.rebuild()
    gen.timings["monthly totals (rebuilt from the ledger)"] = (
        sum(m.objects.count() for m in totals_models()),
        time.monotonic() - t,
    )
    print(f"  monthly totals rebuilt in {time.monotonic() - t:.1f} s", flush=True)
    load_s = time.monotonic() - started - migrate_s
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        t = time.monotonic()
        # The project's tables only: a bare ANALYZE also takes the shared catalogs, and waits
        # behind any other database's session holding them. VACUUM too, not ANALYZE alone:
        # freshly loaded tables have an empty visibility map, so an index-only scan visits
        # every heap page, and autovacuum would start its own pass in the middle of a benchmark.
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
        analyze_s = time.monotonic() - t
        print(f"VACUUM (ANALYZE): {analyze_s:.1f} s\nchecks:", flush=True)
        t = time.monotonic()
        checks = run_checks(cursor)
        differences = totals.differences(totals.recompute(), totals.stored())
        name = "monthly totals equal the ledger (relief.services.totals)"
        checks.append({"check": name, "broken": len(differences), "examples": differences[:5]})
        print(f"  {'ok    ' if not differences else 'BROKEN'} {name} {differences[:5] or ''}")
        checks_s = time.monotonic() - t
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    total_s = time.monotonic() - started
    print(f"states: {json.dumps(gen.states, ensure_ascii=False)}")
    print(f"sizes: {json.dumps(gen.summary, ensure_ascii=False)}")
    print(
        f"migrate {migrate_s:.1f} s, load {load_s:.1f} s, ANALYZE {analyze_s:.1f} s, "
        f"checks {checks_s:.1f} s, total {total_s:.1f} s; database {size / 2**30:.2f} GiB"
    )
    data = {
        "when": time.strftime("%Y-%m-%d %H:%M %Z"),
        "workers": workers,
        "cases": cases,
        "states": gen.states,
        "sizes": gen.summary,
        "timings": {k: {"rows": r, "seconds": round(s, 1)} for k, (r, s) in gen.timings.items()},
        "migrate_s": round(migrate_s, 1),
        "load_s": round(load_s, 1),
        "analyze_s": round(analyze_s, 1),
        "checks_s": round(checks_s, 1),
        "total_s": round(total_s, 1),
        "database_bytes": size,
        "load_start": load_start,
        "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "checks": checks,
    }
    if args.json:
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    if args.results:
        command = " ".join(["bench/generate_scale.py", *(argv or sys.argv[1:])])
        write_section(
            args.results,
            results_section(data, command),
            "<!-- scale-generator:begin -->",
            "<!-- scale-generator:end -->",
        )
    return 1 if any(c["broken"] for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
