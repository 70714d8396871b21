"""factory_boy factories. Unions go through the services so their tree paths are real."""

import io
from types import SimpleNamespace

import factory

from unions.models import Kind, Level, Role, Union, User
from unions.services import union_create, user_set_role


class UnionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Union

    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"工会{n}")
    level = Level.DISTRICT
    kind = ""
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.pop("path", None)
        return union_create(**kwargs)


class DistrictFactory(UnionFactory):
    name = factory.Sequence(lambda n: f"第{n}区总工会")


class TownFactory(UnionFactory):
    level = Level.TOWN
    name = factory.Sequence(lambda n: f"第{n}镇总工会")
    parent = factory.SubFactory(DistrictFactory)


class GrassrootsFactory(UnionFactory):
    level = Level.GRASSROOTS
    kind = Kind.COMMUNITY
    name = factory.Sequence(lambda n: f"第{n}社区工会")
    parent = factory.SubFactory(TownFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password("pw-for-tests-1")

    @classmethod
    def with_role(cls, role: str, union: Union, **kwargs) -> User:
        user = cls(**kwargs)
        return user_set_role(user=user, role=role, union=union)


def caseworker(union: Union, **kwargs) -> User:
    return UserFactory.with_role(Role.CASEWORKER, union, **kwargs)


def town_reviewer(union: Union, **kwargs) -> User:
    return UserFactory.with_role(Role.TOWN_REVIEWER, union, **kwargs)


def district_officer(union: Union, **kwargs) -> User:
    return UserFactory.with_role(Role.DISTRICT_OFFICER, union, **kwargs)


def build_tree():
    """The named tree of the `tree` fixture (tests/conftest.py), also for wider scopes."""
    nh = union_create(code="NH", name="南海区总工会", level=Level.DISTRICT)
    xq = union_create(code="XQ", name="西樵镇总工会", level=Level.TOWN, parent=nh)
    dl = union_create(code="DL", name="大沥镇总工会", level=Level.TOWN, parent=nh)
    xq_s01 = union_create(
        code="XQ-S01", name="樵园社区工会", level=Level.GRASSROOTS, kind=Kind.COMMUNITY, parent=xq
    )
    xq_e01 = union_create(
        code="XQ-E01", name="樵山食品工会", level=Level.GRASSROOTS, kind=Kind.ENTERPRISE, parent=xq
    )
    dl_v01 = union_create(
        code="DL-V01", name="凤池村工会", level=Level.GRASSROOTS, kind=Kind.VILLAGE, parent=dl
    )
    return SimpleNamespace(nh=nh, xq=xq, dl=dl, xq_s01=xq_s01, xq_e01=xq_e01, dl_v01=dl_v01)


def build_people(tree):
    """The named users of the `people` fixture (tests/conftest.py)."""
    return SimpleNamespace(
        alice=caseworker(tree.xq_s01, username="alice"),
        bob=caseworker(tree.dl_v01, username="bob"),
        carol=town_reviewer(tree.xq, username="carol"),
        dave=town_reviewer(tree.dl, username="dave"),
        erin=district_officer(tree.nh, username="erin"),
        root=UserFactory(username="root", is_superuser=True, is_staff=True),
    )


# --- relief -------------------------------------------------------------------------------

import datetime as dt  # noqa: E402
from decimal import Decimal  # noqa: E402

from relief import services  # noqa: E402
from relief.idcard import check_digit  # noqa: E402
from relief.models import HardshipCategory, Worker  # noqa: E402


def make_id_number(n: int, *, born: dt.date = dt.date(1980, 5, 17), male: bool = True) -> str:
    """A valid 18-character ID number, distinct for each n (Foshan Nanhai area code)."""
    seq = (n % 500) * 2 + (1 if male else 0)
    first17 = f"440605{born:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)


class WorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Worker

    name = factory.Sequence(lambda n: f"梁{n}明")
    id_number = factory.Sequence(
        lambda n: make_id_number(n % 500, born=dt.date(1960 + n // 500 % 40, 1, 1 + n % 28))
    )
    phone = "13800000000"
    employer = "西樵纺织厂"
    bank_name = "农村商业银行"
    bank_branch = "西樵支行"
    bank_card = "6228480000000000001"


def category(name: str = "重大疾病") -> HardshipCategory:
    return HardshipCategory.objects.get(name=name)


def file_case(caseworker_user, worker=None, *, amount="5000.00", categories=("重大疾病",), **kw):
    """A draft case filed through the service by `caseworker_user`."""
    worker = worker or WorkerFactory(union=caseworker_user.union)
    return services.application_create(
        user=caseworker_user,
        worker=worker,
        categories=[category(c) for c in categories],
        narrative=kw.pop("narrative", "肾病透析，母亲长期患病，两名子女在读。"),
        requested_amount=Decimal(amount),
        household_monthly_income=Decimal(kw.pop("income", "2000.00")),
        monthly_medical_expenses=Decimal(kw.pop("medical", "3000.00")),
        **kw,
    )


def fund(officer, town, amount, *, source="district", year=None):
    """Put `amount` into a town's fund account (a district allocation by default)."""
    return services.fund_income_record(
        user=officer,
        town=town,
        source=source,
        year=year or dt.date.today().year,
        amount=Decimal(amount),
        received_on=dt.date.today(),
        document_no="南工字〔测试〕1号" if source == "district" else "",
    )


# The path through the services to each state, and who takes each step.
PATH = {
    "draft": [],
    "submitted": ["submit"],
    "returned": ["submit", "return"],
    "verified": ["submit", "visit", "verify"],
    "recommended": ["submit", "visit", "verify", "recommend"],
    "approved": ["submit", "visit", "verify", "recommend", "approve"],
    "disbursed": ["submit", "visit", "verify", "recommend", "approve", "pay"],
    "closed": ["submit", "visit", "verify", "recommend", "approve", "pay", "follow_up", "close"],
    "rejected": ["submit", "reject"],
    "withdrawn": ["withdraw"],
}


def case_in_state(state: str, *, caseworker, reviewer, officer, worker=None, amount="5000.00"):
    """A case driven through the real services into `state`."""
    app = walk(
        file_case(caseworker, worker, amount=amount),
        state,
        caseworker=caseworker,
        reviewer=reviewer,
        officer=officer,
    )
    assert app.state == state
    return app


def walk(app, state, *, caseworker, reviewer, officer, paid_on=None, amount=None):
    """Drive a draft `app` through the real services into `state` (case_in_state files one
    first; callers file their own for a chosen application date or categories)."""
    today = dt.date.today()
    amount = Decimal(amount) if amount is not None else app.requested_amount
    for step in PATH[state]:
        if step == "submit":
            app = services.application_submit(application=app, user=caseworker)
        elif step == "return":
            app = services.application_return(application=app, user=reviewer, comment="缺诊断书")
        elif step == "visit":
            services.home_visit_record(
                application=app,
                user=reviewer,
                visit_date=today,
                visitors="梁慧敏、何建华",
                findings="情况属实",
                verified_household_income=Decimal("1800.00"),
                verified_monthly_expenses=Decimal("3200.00"),
            )
        elif step == "verify":
            app = services.application_verify(application=app, user=reviewer)
        elif step == "recommend":
            app = services.application_recommend(
                application=app, user=reviewer, amount=amount, comment="研讨同意"
            )
        elif step == "approve":
            app = services.application_approve(application=app, user=officer, amount=amount)
        elif step == "pay":
            fund(officer, app.union.parent, app.approved_amount, year=(paid_on or today).year)
            services.disbursement_record(
                application=app,
                user=officer,
                amount=app.approved_amount,
                paid_on=paid_on or today,
                method="bank",
                fund_source="district",
                voucher_no="PZ-001",
            )
            app.refresh_from_db()
        elif step == "follow_up":
            services.follow_up_record(
                application=app,
                user=reviewer,
                follow_up_date=today,
                method="phone",
                findings="已收到",
            )
        elif step == "close":
            app = services.application_close(application=app, user=reviewer)
        elif step == "reject":
            app = services.application_reject(application=app, user=reviewer, reason="不符合条件")
        elif step == "withdraw":
            app = services.application_withdraw(application=app, user=caseworker)
    assert app.state == state
    return app


def tiny_png(size=(2, 2)) -> bytes:
    """A real PNG (attachments are decoded on upload, relief.uploads)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def tiny_jpeg(size=(2, 2)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (30, 30, 200)).save(out, "JPEG")
    return out.getvalue()


def tiny_pdf(padding: int = 0) -> bytes:
    """A real one-page PDF; `padding` characters of metadata make it larger."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if padding:
        writer.add_metadata({"/Subject": "x" * padding})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_of_size(size: int) -> bytes:
    """A real PDF of exactly `size` bytes."""
    padding = 1000
    for _attempt in range(5):  # a few bytes of the file depend on its size: converge
        data = tiny_pdf(padding=padding)
        if len(data) == size:
            return data
        padding += size - len(data)
    raise AssertionError(f"no PDF of {size} bytes")
