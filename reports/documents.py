"""Context builders: what each document shows, ready for its template.

Documents are official Chinese paperwork, so their labels are Chinese whatever the interface
language; names and ID numbers are masked everywhere except on the case approval form, which
the worker signs and which goes into the paper archive.
"""

import datetime as dt
import functools
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone, translation

from relief import queues
from relief.idcard import mask_card, mask_id_number, mask_name
from relief.models import Application, AuditEntry, Disbursement, FundSource, Worker
from reports import charts, figures
from reports.figures import ZERO, Period
from unions.models import Level, Union


def in_chinese(build):
    """Runs a document builder with Chinese active, whatever the language of the page or
    command that asked for the document: the labels it takes from the models (区拨款 for a
    fund source, a case's state, a decision) are evaluated here, before the template's own
    override (reports.pdf.render_template_pdf) could apply. A generator runs in Chinese at
    each step, not only when it is created."""
    if inspect.isgeneratorfunction(build):

        @functools.wraps(build)
        def steps(*args, **kwargs):
            items = build(*args, **kwargs)
            try:
                while True:
                    with translation.override("zh-hans"):
                        try:
                            item = next(items)
                        except StopIteration:
                            return
                    yield item
            finally:
                items.close()  # a report stopped early closes its server-side cursor now

        return steps

    @functools.wraps(build)
    def built(*args, **kwargs):
        with translation.override("zh-hans"):
            return build(*args, **kwargs)

    return built


def local_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    return value


def fund_source_labels() -> dict[str, str]:
    return {k: str(v) for k, v in FundSource.choices}


# How a payout that was an emergency advance (relief.models.Advance) is marked in the detail
# tables: it counts with the payouts of its period, and says what it was.
ADVANCE_MARK = "先行救助"


def advance_label(source_label: str, is_advance) -> str:
    return f"{source_label}（{ADVANCE_MARK}）" if is_advance else source_label


def categories_by_application(application_ids) -> dict[int, str]:
    """application id -> "重大疾病、家庭成员患病" in the categories' configured order."""
    through = Application.categories.through
    rows = (
        through.objects.filter(application_id__in=application_ids)
        .order_by("application_id", "hardshipcategory__order", "hardshipcategory__name")
        .values_list("application_id", "hardshipcategory__name")
    )
    out: dict[int, list[str]] = {}
    for app_id, name in rows.iterator(chunk_size=5000):
        out.setdefault(app_id, []).append(name)
    return {k: "、".join(v) for k, v in out.items()}


# --- 年度临时救助金发放汇总表 -------------------------------------------------------------


@dataclass
class DetailRow:
    seq: int
    name: str
    id_number: str
    union: str
    categories: str
    approved_on: dt.date | None
    paid_on: dt.date
    amount: Decimal
    fund_source: str
    worker_period_total: Decimal
    worker_all_time_total: Decimal


@dataclass
class UnionBlock:
    """The rows of one grassroots union and its subtotal (a block may be split across chunks;
    the subtotal row goes with the last part)."""

    union: str
    rows: list[DetailRow] = field(default_factory=list)
    subtotal_count: int = 0
    subtotal_amount: Decimal = ZERO
    is_last_part: bool = True


@in_chinese
def payout_report_header(unit: Union, period: Period) -> dict:
    summary = figures.summary(unit, period)
    return {
        "unit": unit,
        "period": period,
        "title": "年度临时救助金发放汇总表",
        "summary": summary,
        "chart_svg": charts.bar_chart_svg(
            summary.by_time, title="按年度发放金额" if not period.single_year else "按月发放金额"
        ),
        # Payouts on cases without an approval date (imported from a ledger that had none).
        "undated_approvals": figures.period_payouts(unit, period)
        .filter(application__approved_at__isnull=True)
        .count(),
        "generated_on": timezone.localdate(),
    }


@in_chinese
def payout_detail_rows(unit: Union, period: Period) -> Iterator[tuple[str, DetailRow]]:
    """(union name, row) for every payout in the period, by union then payment date.

    Three queries whatever the number of rows: the payouts (streamed), the per-worker totals
    for the period and up to its end, and the categories of the cases.
    """
    qs = figures.period_payouts(unit, period)
    period_totals = figures.worker_period_totals(unit, period)
    all_time = figures.worker_all_time_totals(unit, period)
    cats = categories_by_application(qs.values("application_id"))
    sources = fund_source_labels()
    rows = qs.order_by("application__union__path", "paid_on", "pk").values_list(
        "application__union__name",
        "application__worker_id",
        "application__worker__name",
        "application__worker__id_number",
        "application_id",
        "application__approved_at",
        "paid_on",
        "amount",
        "fund_source",
        "advance__id",
    )
    for seq, (
        union,
        worker_id,
        name,
        id_number,
        app_id,
        approved_at,
        paid_on,
        amount,
        src,
        advance_id,
    ) in enumerate(rows.iterator(chunk_size=2000), start=1):
        yield (
            union,
            DetailRow(
                seq=seq,
                name=mask_name(name),
                id_number=mask_id_number(id_number),
                union=union,
                categories=cats.get(app_id, ""),
                approved_on=local_date(approved_at),
                paid_on=paid_on,
                amount=amount,
                fund_source=advance_label(sources.get(src, src), advance_id),
                worker_period_total=period_totals.get(worker_id, ZERO),
                worker_all_time_total=all_time.get(worker_id, ZERO),
            ),
        )


@in_chinese
def payout_report_chunks(unit: Union, period: Period, chunk_rows: int) -> Iterator[list]:
    """Lists of UnionBlocks holding at most `chunk_rows` rows each, in report order.

    Chunks end at a union's end where possible, so a page break between two rendered chunks
    falls between unions; a union larger than a chunk is split and its subtotal row follows
    its last part.
    """
    chunk: list[UnionBlock] = []
    in_chunk = 0
    block: UnionBlock | None = None
    for union, row in payout_detail_rows(unit, period):
        if block is None or block.union != union:
            if block is not None and in_chunk >= chunk_rows // 2:
                # Start the next union in a fresh chunk rather than split it.
                yield chunk
                chunk, in_chunk = [], 0
            block = UnionBlock(union=union)
            chunk.append(block)
        if in_chunk >= chunk_rows:
            block.is_last_part = False
            yield chunk
            carry = UnionBlock(
                union=union,
                subtotal_count=block.subtotal_count,
                subtotal_amount=block.subtotal_amount,
            )
            block = carry
            chunk, in_chunk = [block], 0
        block.rows.append(row)
        block.subtotal_count += 1
        block.subtotal_amount += row.amount
        in_chunk += 1
    if chunk:
        yield chunk


def payout_report_row_count(unit: Union, period: Period) -> int:
    return figures.period_payouts(unit, period).count()


# --- 个人救助累计明细 -----------------------------------------------------------------------


@in_chinese
def worker_statement(worker: Worker) -> dict:
    payouts = (
        Disbursement.objects.received()
        .filter(application__worker=worker)
        .select_related("application__union__parent", "advance")
        .order_by("paid_on", "pk")
    )
    payouts = list(payouts)
    cats = categories_by_application([p.application_id for p in payouts])
    sources = fund_source_labels()
    running = ZERO
    rows = []
    per_year: dict[int, Decimal] = {}
    for i, p in enumerate(payouts, start=1):
        running += p.amount
        per_year[p.paid_on.year] = per_year.get(p.paid_on.year, ZERO) + p.amount
        union = p.application.union
        rows.append(
            {
                "seq": i,
                "paid_on": p.paid_on,
                "reference": p.application.reference,
                "town": union.parent.name if union.parent else "",
                "union": union.name,
                "categories": cats.get(p.application_id, ""),
                "amount": p.amount,
                "fund_source": advance_label(
                    sources.get(p.fund_source, p.fund_source), hasattr(p, "advance")
                ),
                "voucher_no": p.voucher_no,
                "running_total": running,
            }
        )
    return {
        "title": "个人救助累计明细",
        "worker": worker,
        "name": mask_name(worker.name),
        "id_number": mask_id_number(worker.id_number),
        "union": worker.union.name,
        "rows": rows,
        "total": running,
        "count": len(rows),
        "years": sorted(per_year.items()),
        "generated_on": timezone.localdate(),
    }


# --- 临时救助申请审批表 ---------------------------------------------------------------------

# Which audit actions fill which tier's box, and how the form names the recorded step.
_TIER_ACTIONS = {
    "grassroots": ("submit", "resubmit"),
    "town": ("recommend", "reject"),
    "district": ("approve", "reject"),
}
_STEP_WORDS = {
    "submit": "已申报",
    "resubmit": "已申报",
    "recommend": "建议救助",
    "approve": "批准救助",
    "reject": "不予救助",
}


def _tier_box(entries: list[AuditEntry], tier: str, amount: Decimal | None, opinion="") -> dict:
    """One tier's box: its opinion exactly as recorded, or nothing (blank lines to write on).

    The recorded step (申报 / 建议救助 / 批准救助 / 不予救助), who took it and when come from the
    audit trail; no opinion is ever made up for a tier that did not write one.
    """
    wanted = _TIER_ACTIONS[tier]
    level = {"grassroots": Level.GRASSROOTS, "town": Level.TOWN, "district": Level.DISTRICT}[tier]
    chosen = None
    for entry in entries:
        actor_union = getattr(entry.actor, "union", None)
        if entry.action in wanted and actor_union is not None and actor_union.level == level:
            chosen = entry  # the latest one wins: a resubmission replaces the first submission
    if chosen is None:
        return {"reached": False, "opinion": (opinion or "").strip()}
    rejected = chosen.action == "reject"
    return {
        "reached": True,
        # The grassroots tier writes its opinion on the case; the others with their step.
        "opinion": (opinion or chosen.comment or "").strip(),
        "step": _STEP_WORDS[chosen.action],
        "amount": None if rejected else amount,
        "date": local_date(chosen.at),
        "signer": chosen.actor.get_full_name(),
        "union": actor_union_name(chosen),
    }


def actor_union_name(entry: AuditEntry) -> str:
    union = getattr(entry.actor, "union", None)
    return union.name if union else ""


def _notice_rows(application: Application, *, with_objections: bool) -> list[dict]:
    """The public notices of the case, oldest first, with each objection's finding and outcome
    (for the town and the district only: never what was said or who said it)."""
    items = application.notice_items.select_related("notice__town").order_by("pk")
    rows = []
    for item in items:
        objections = []
        if with_objections:
            for o in item.objections.order_by("received_on", "pk"):
                objections.append(
                    {
                        "received_on": o.received_on,
                        "channel": o.get_channel_display(),
                        "finding": o.finding,
                        "outcome": o.get_outcome_display() if o.outcome else "未处理",
                        "resolved_on": o.resolved_on,
                    }
                )
        rows.append(
            {
                "number": item.notice.number,
                "starts": item.notice.starts_on,
                "ends": item.notice.ends_on,
                "posted_at": item.notice.posted_at,
                "amount": item.amount,
                "objections": objections,
            }
        )
    return rows


@in_chinese
def approval_form(application: Application, *, with_objections: bool = True) -> dict:
    worker = application.worker
    entries = list(application.audit_entries.select_related("actor__union").order_by("at", "pk"))
    visit = application.home_visits.order_by("-visit_date", "-pk").first()
    household = list(worker.household.all())
    union = application.union
    paid = application.disbursements.aggregate(s=Sum("amount"))["s"] or ZERO
    return {
        "title": "临时救助申请审批表",
        "app": application,
        "worker": worker,
        "id_number": mask_id_number(worker.id_number),
        # The case's own payout account once fixed (at approval), else the card on file.
        "bank_name": application.payout_bank_name or worker.bank_name,
        "bank_card": mask_card(application.payout_card or worker.bank_card),
        "gender": {"M": "男", "F": "女"}.get(worker.gender, ""),
        "birth_date": worker.birth_date,
        "household": household,
        "household_size": len(household) + 1,
        "categories": "、".join(c.name for c in application.categories.all()),
        "union": union,
        "town": union.town,
        "visit": visit,
        "tiers": [
            (
                "基层工会意见",
                _tier_box(
                    entries,
                    "grassroots",
                    application.requested_amount,
                    opinion=application.grassroots_opinion,
                ),
            ),
            ("镇总工会意见", _tier_box(entries, "town", application.recommended_amount)),
            ("区总工会意见", _tier_box(entries, "district", application.approved_amount)),
        ],
        "paid": paid,
        "notices": _notice_rows(application, with_objections=with_objections),
        "with_objections": with_objections,
        "state_label": application.get_state_display(),
        "generated_on": timezone.localdate(),
    }


# --- 研讨会纪要 -----------------------------------------------------------------------------

# The meeting's decision in the words of the minutes (documents are Chinese whatever the UI).
DECISION_WORDS = {
    "recommend": "建议救助",
    "return": "退回补充",
    "reject": "不予救助",
}


@in_chinese
def meeting_minutes(meeting) -> dict:
    """研讨会纪要: the meeting as recorded and each case discussed with its decision, amount
    and reason, in the order they were recorded. Names masked, no ID numbers."""
    decisions = list(
        meeting.decisions.select_related("application__worker", "application__union").order_by("pk")
    )
    cats = categories_by_application([d.application_id for d in decisions])
    rows = []
    counts = dict.fromkeys(DECISION_WORDS, 0)
    recommended = ZERO
    for i, d in enumerate(decisions, start=1):
        app = d.application
        counts[d.decision] = counts.get(d.decision, 0) + 1
        if d.amount is not None:
            recommended += d.amount
        rows.append(
            {
                "seq": i,
                "reference": app.reference,
                "name": mask_name(app.worker.name),
                "union": app.union.name,
                "categories": cats.get(app.pk, ""),
                "requested": app.requested_amount,
                "decision": DECISION_WORDS.get(d.decision, d.get_decision_display()),
                "amount": d.amount,
                "reason": d.comment,
            }
        )
    return {
        "title": "临时救助研讨会纪要",
        "meeting": meeting,
        "town": meeting.town,
        "district": meeting.town.parent,
        "rows": rows,
        "count": len(rows),
        "counts": [(DECISION_WORDS[k], counts[k]) for k in DECISION_WORDS],
        "recommended_total": recommended,
        "recorded_by": meeting.recorded_by.get_full_name() or meeting.recorded_by.get_username(),
        "recorded_on": local_date(meeting.recorded_at),
        "generated_on": timezone.localdate(),
    }


# --- 发放清单 -------------------------------------------------------------------------------


@in_chinese
def payment_list(batch, *, full_cards: bool = False) -> dict:
    """发放清单 of a payment batch: each payee, their payout account, amount and fund source,
    and the total. ID numbers are always masked (a transfer needs the name and the account);
    `full_cards` gives the bank's copy: full names and full card numbers, for the users the
    bank file is for (privacy.access.may_see_full(user, BANK_FILE)) — the caller checks and
    logs. Otherwise names and cards are masked like everywhere else."""
    items = list(
        batch.items.select_related(
            "application__worker", "application__union__parent", "disbursement"
        ).order_by("pk")
    )
    sources = fund_source_labels()
    rows = []
    total = ZERO
    towns: dict[str, list] = {}
    for i, item in enumerate(items, start=1):
        app, worker = item.application, item.application.worker
        total += item.amount
        town = app.union.town
        town_name = town.name if town else ""
        per_town = towns.setdefault(town_name, [0, ZERO])
        per_town[0] += 1
        per_town[1] += item.amount
        paid = item.disbursement
        source = paid.fund_source if paid is not None else batch.fund_source
        card = app.payout_card
        rows.append(
            {
                "seq": i,
                "reference": app.reference,
                "name": worker.name if full_cards else mask_name(worker.name),
                "id_number": mask_id_number(worker.id_number),
                "union": app.union.name,
                "town": town_name,
                "bank": " ".join(x for x in (app.payout_bank_name, app.payout_bank_branch) if x),
                "card": (card if full_cards else mask_card(card)) if card else "",
                "amount": item.amount,
                # The batch draws on each town's account of this source and year.
                "fund_source": f"{sources.get(source, source)} {batch.fund_year}年",
                "paid_on": paid.paid_on if paid is not None else None,
            }
        )
    return {
        "title": "临时救助金发放清单",
        "batch": batch,
        "fund_source": sources.get(batch.fund_source, batch.fund_source),
        "state_label": batch.get_state_display(),
        "rows": rows,
        "count": len(rows),
        "total": total,
        "towns": sorted((name, n, amount) for name, (n, amount) in towns.items()),
        "full_cards": full_cards,
        "generated_on": timezone.localdate(),
    }


@in_chinese
def notice_list(notice) -> dict:
    """The list of one recorded public notice (relief.models.PublicNotice): its cases with the
    amounts it showed, its number, period, place and complaint phone; the columns the policy in
    force on its first day allows (never ID numbers, health details or addresses)."""
    from relief.models import Policy

    policy = Policy.in_force(notice.starts_on)
    show = {
        "name": policy.notice_shows_name if policy else True,
        "union": policy.notice_shows_union if policy else True,
        "categories": policy.notice_shows_categories if policy else True,
        "amount": policy.notice_shows_amount if policy else True,
    }
    items = list(
        notice.items.select_related("application__worker", "application__union").order_by(
            "application__union__path", "application__application_date", "pk"
        )
    )
    cats = categories_by_application([i.application_id for i in items])
    rows = []
    total = ZERO
    for seq, item in enumerate(items, start=1):
        total += item.amount
        rows.append(
            {
                "seq": seq,
                "name": mask_name(item.application.worker.name),
                "union": item.application.union.name,
                "categories": cats.get(item.application_id, ""),
                "amount": item.amount,
            }
        )
    return {
        "title": "临时救助对象公示名单",
        "town": notice.town,
        "number": notice.number,
        "show": show,
        "columns": 1 + sum(show.values()),
        "stage_label": "拟救助",
        "year": notice.year,
        "rows": rows,
        "total": total,
        "starts": notice.starts_on,
        "ends": notice.ends_on,
        "workdays": notice.workdays,
        "posted_at": notice.posted_at,
        "phone": notice.phone,
        "generated_on": timezone.localdate(),
    }


# --- 超期待办清单 ---------------------------------------------------------------------------


@in_chinese
def overdue_list(user, unit: Union, today: dt.date) -> dict:
    """超期待办清单: every case in the user's scope within `unit` whose current step is past
    its deadline, by town (each row's step and note are worded by relief.queues, here in
    Chinese); names masked."""
    items = queues.overdue_cases(user, unit=unit, today=today)
    towns: list[dict] = []
    for item in items:
        if not towns or towns[-1]["name"] != item.town:
            towns.append({"name": item.town, "rows": []})
        towns[-1]["rows"].append({"item": item, "name": mask_name(item.title)})
    return {
        "unit": unit,
        "today": today,
        "towns": towns,
        "total": len(items),
        "generated_at": timezone.localtime(),
    }
