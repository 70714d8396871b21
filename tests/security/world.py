"""The data the URL matrix runs against: every kind of object, once under each town.

    district 南海 (NH)
      town 西樵 (XQ): XQ-S01 (alice, caseworker), carol (town reviewer)   -> scope "in"
      town 大沥 (DL): DL-V01 (bob, caseworker), dave (town reviewer)       -> scope "out"
    erin: district officer (NH); root: superuser

"out" objects lie under the other town: outside alice's and carol's scope. Erin and root see
the whole district, so for them both are in scope (the table says so, role by role).
Everything is made through the services, like the real thing.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.models import Delivery, GroupRobot, Notification
from relief import services
from relief.models import AuditEntry, FundAccount, HardshipCategory, Policy, WorkingDayCorrection
from relief.services.meetings import DecisionInput
from relief.services.notices import notice_open, objection_record
from reports.models import JobStatus, ReportJob
from reports.tasks import generate_payout_report
from tests.factories import (
    WorkerFactory,
    build_people,
    build_tree,
    file_case,
    fund,
    make_id_number,
    tiny_pdf,
    walk,
)

PDF = tiny_pdf()
# Who objected to each town's noticed case: the other town's is a secret like its workers.
OBJECTORS = {"XQ": "区永坚", "DL": "潘立新"}
TODAY = dt.date.today()

# Names and numbers of the other town's workers: no page that alice or carol may open shows
# any of them (checked on every response body of the matrix).
OUT_WORKERS = [
    ("陈大文", make_id_number(301, born=dt.date(1975, 2, 3)), "6228480000000000301"),
    ("林小红", make_id_number(302, born=dt.date(1976, 3, 4)), "6228480000000000302"),
    ("周建国", make_id_number(303, born=dt.date(1977, 4, 5)), "6228480000000000303"),
    ("吴秀英", make_id_number(304, born=dt.date(1978, 5, 6)), "6228480000000000304"),
    ("郑海燕", make_id_number(305, born=dt.date(1979, 6, 7)), "6228480000000000305"),
    ("罗志坚", make_id_number(306, born=dt.date(1980, 7, 8)), "6228480000000000306"),
    ("许文斌", make_id_number(307, born=dt.date(1981, 8, 9)), "6228480000000000307"),
]
IN_WORKERS = [
    ("梁志明", make_id_number(201, born=dt.date(1972, 2, 3)), "6228480000000000201"),
    ("何丽娟", make_id_number(202, born=dt.date(1973, 3, 4)), "6228480000000000202"),
    ("黄国华", make_id_number(203, born=dt.date(1974, 4, 5)), "6228480000000000203"),
    ("冯美玲", make_id_number(204, born=dt.date(1975, 5, 6)), "6228480000000000204"),
    ("谭志强", make_id_number(205, born=dt.date(1976, 6, 7)), "6228480000000000205"),
    ("邓永康", make_id_number(206, born=dt.date(1977, 7, 8)), "6228480000000000206"),
    ("邓丽萍", make_id_number(207, born=dt.date(1978, 8, 9)), "6228480000000000207"),
]


def _town_objects(people, *, caseworker, reviewer, union, town, workers):
    erin = people.erin
    made = [
        WorkerFactory(union=union, name=name, id_number=number, bank_card=card)
        for name, number, card in workers
    ]
    steps = {"caseworker": caseworker, "reviewer": reviewer, "officer": erin}
    draft = file_case(caseworker, made[0])
    attachment = services.attachment_add(
        application=draft,
        user=caseworker,
        upload=SimpleUploadedFile("诊断书.pdf", PDF, content_type="application/pdf"),
        kind="diagnosis",
    )
    draft.refresh_from_db()
    submitted = walk(file_case(caseworker, made[1]), "submitted", **steps)
    approved = walk(file_case(caseworker, made[2]), "approved", **steps)
    paid = walk(file_case(caseworker, made[3]), "disbursed", **steps)
    batch = services.batch_create(
        user=erin, title=f"{town.name}批次", applications=[approved], fund_source="district"
    )
    discussed = walk(file_case(caseworker, made[4]), "submitted", **steps)
    meeting = services.review_meeting_record(
        user=reviewer,
        meeting_date=TODAY,
        attendees="梁慧敏、何建华",
        minutes="研讨",
        decisions=[DecisionInput(application=discussed, decision="return", comment="缺诊断书")],
    )
    campaign = services.donation_campaign_create(user=reviewer, town=town, year=TODAY.year - 1)
    collection = services.donation_collection_record(
        user=reviewer,
        campaign=campaign,
        union=union,
        collected_on=campaign.starts_on,
        donor_count=2,
        amount=Decimal("20.00"),
    )
    services.hardship_file_close(worker=made[3], user=reviewer, reason="已就业")
    robot = GroupRobot.objects.create(
        union=union,
        kind="dingtalk",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=t0ken",
        secret="SECdo-not-show-this-secret",
    )
    delivery = Delivery.objects.create(
        channel="robot",
        union=union,
        robot=robot,
        application=submitted,
        kind="submitted",
        subject=f"救助申请 {submitted.reference}：已提交",
        body=f"救助申请 {submitted.reference}：已提交",
    )
    # A recommended case on public notice, with an objection not yet resolved (issue 15).
    noticed = walk(file_case(caseworker, made[5]), "recommended", **steps)
    notice = notice_open(
        user=reviewer,
        applications=[noticed],
        posted_at=f"{union.name}公示栏",
        starts_on=timezone.localdate(),
    )
    noticed.refresh_from_db()
    objection = objection_record(
        user=reviewer,
        application=noticed,
        received_on=timezone.localdate(),
        channel="phone",
        content="来电反映",
        objector_name=OBJECTORS[town.code],
    )
    # 先行救助: an advance paid from town funds, then the case rejected: a shortfall.
    fund(reviewer, town, "10000.00", source="town")
    emergency = walk(file_case(caseworker, made[6]), "submitted", **steps)
    services.home_visit_record(
        application=emergency,
        user=reviewer,
        visit_date=TODAY,
        visitors="梁慧敏",
        findings="情况属实",
        verified_household_income=Decimal("1000.00"),
        verified_monthly_expenses=Decimal("4000.00"),
    )
    advance = services.advance_grant(
        application=emergency, user=reviewer, amount=Decimal("2000.00"), reason="手术费急需"
    )
    emergency.refresh_from_db()
    services.advance_pay(application=emergency, user=reviewer, paid_on=TODAY, method="cash")
    emergency.refresh_from_db()
    services.application_reject(application=emergency, user=reviewer, reason="经核实不符")
    advance.refresh_from_db()
    return {
        "notice": notice,
        "objection": objection,
        "worker": made[0],
        "case_draft": draft,
        "case_submitted": submitted,
        "attachment": attachment,
        "payout": paid.disbursements.get(),
        "batch": batch,
        "meeting": meeting,
        "campaign": campaign,
        "collection": collection,
        "hardship_file": made[3].hardship_file,
        "fund_account": FundAccount.objects.filter(town=town).first(),
        "fund_income": town.fund_accounts.first().incomes.first(),
        "audit_entry": AuditEntry.objects.filter(application=draft).first(),
        "union": union,
        "caseworker": caseworker,
        "robot": robot,
        "delivery": delivery,
        "advance": advance,
        "shortfall": advance.shortfall,
    }


def _job(user, unit) -> ReportJob:
    """A finished background report with its file (in the default storage: MEDIA_ROOT, which
    the matrix points at a temporary directory), as reports.tasks leaves one."""
    job = ReportJob.objects.create(
        kind="payout_report",
        params={"first_year": TODAY.year, "last_year": TODAY.year},
        unit=unit,
        requested_by=user,
        title=f"{unit.name}报表",
        status=JobStatus.DONE,
        rows_total=1,
        rows_done=1,
        pages=1,
    )
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.save(job.storage_name, ContentFile(PDF))
    return job


def build_world() -> SimpleNamespace:
    from privacy import access
    from privacy.models import AccessKind

    tree = build_tree()
    people = build_people(tree)
    for town in (tree.xq, tree.dl):
        fund(people.erin, town, "1000000.00")
    policy = Policy.objects.get()
    policy.advance_allowed = True
    policy.advance_cap = Decimal("3000.00")
    policy.save()
    policy.advance_categories.set(HardshipCategory.objects.filter(name="重大疾病"))
    objects = {
        "in": _town_objects(
            people,
            caseworker=people.alice,
            reviewer=people.carol,
            union=tree.xq_s01,
            town=tree.xq,
            workers=IN_WORKERS,
        ),
        "out": _town_objects(
            people,
            caseworker=people.bob,
            reviewer=people.dave,
            union=tree.dl_v01,
            town=tree.dl,
            workers=OUT_WORKERS,
        ),
    }
    # Users are objects of the user admin: alice's record is in carol's scope, bob's is not.
    objects["in"]["user"], objects["out"]["user"] = people.alice, people.bob
    # A report job belongs to the user who asked for it: "in" is the requester's own, "out"
    # someone else's (dave's), whatever the union.
    jobs = {
        name: _job(getattr(people, name), tree.xq) for name in ("alice", "carol", "erin", "root")
    }
    jobs["dave"] = _job(people.dave, tree.dl)
    generate_payout_report.enqueue(str(jobs["dave"].pk))
    # A notification belongs to its recipient alone, like a job: "out" is dave's.
    notices = {
        name: Notification.objects.create(
            recipient=getattr(people, name),
            application=objects["out" if name == "dave" else "in"]["case_submitted"],
            kind="submitted",
            title="救助申请已提交",
            link="/cases/",
        )
        for name in ("alice", "carol", "erin", "root", "dave")
    }  # a task result row for its admin
    unscoped = {
        "group": Group.objects.get(name="town-reviewers"),
        "policy": Policy.objects.first(),
        "category": HardshipCategory.objects.first(),
        "working_day": WorkingDayCorrection.objects.create(
            day=dt.date(2027, 2, 6), is_workday=True, reason="春节调休"
        ),
        "task_result": DBTaskResult.objects.first(),
        # One access-log row (the log has no scope: only district officers read it).
        "access_log": access.record(
            None, AccessKind.FULL_ID, obj=objects["in"]["worker"], user=people.erin
        ),
        # Sign-in throttling (django-axes): a locked attempt and one failure, as a wrong
        # password leaves them.
        "access_attempt": AccessAttempt.objects.create(
            username="alice",
            ip_address="192.0.2.10",
            user_agent="test",
            path_info="/login/",
            failures_since_start=5,
            get_data="",
            post_data="username=alice",
            http_accept="text/html",
        ),
        "access_failure": AccessFailureLog.objects.create(
            username="alice",
            ip_address="192.0.2.10",
            user_agent="test",
            path_info="/login/",
            locked_out=True,
        ),
    }
    secrets = [s for worker in OUT_WORKERS for s in worker] + [
        objects["out"][k].reference for k in ("case_draft", "case_submitted")
    ]
    secrets += [tree.dl.name, tree.dl_v01.name, objects["out"]["batch"].reference]
    secrets += [OBJECTORS["DL"], objects["out"]["notice"].number]
    secrets += [objects["out"]["advance"].application.reference]
    return SimpleNamespace(
        tree=tree,
        people=people,
        objects=objects,
        unscoped=unscoped,
        jobs=jobs,
        notices=notices,
        out_secrets=secrets,
        union_names={tree.dl.name, tree.dl_v01.name},
    )
