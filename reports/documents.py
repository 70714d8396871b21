"""Context builders: what each document shows, ready for its template.

Documents are official Chinese paperwork, so their labels are Chinese whatever the interface
language; names and ID numbers are masked everywhere except on the case approval form, which
the worker signs and which goes into the paper archive.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from relief import workflow as wf
from relief.idcard import mask_card, mask_id_number, mask_name
from relief.models import Application, AuditEntry, Disbursement, FundSource, Worker
from reports import charts, figures
from reports.figures import ZERO, Period
from unions.models import Level, Union


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


def approval_form(application: Application) -> dict:
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
        "state_label": application.get_state_display(),
        "generated_on": timezone.localdate(),
    }


# --- 公示名单 -----------------------------------------------------------------------------

NOTICE_STATES = {
    "recommended": (wf.S_RECOMMENDED,),
    "approved": (wf.S_APPROVED, wf.S_DISBURSED, wf.S_CLOSED),
}


def public_notice(town: Union, *, stage: str, year: int, starts: dt.date, ends: dt.date) -> dict:
    states = NOTICE_STATES[stage]
    apps = list(
        Application.objects.filter(
            union__path__startswith=town.path,
            state__in=states,
            application_date__year=year,
        )
        .select_related("worker", "union")
        .order_by("union__path", "application_date", "pk")
    )
    cats = categories_by_application([a.pk for a in apps])
    rows = []
    total = ZERO
    for i, a in enumerate(apps, start=1):
        amount = a.approved_amount if stage == "approved" else a.recommended_amount
        total += amount or ZERO
        rows.append(
            {
                "seq": i,
                "name": mask_name(a.worker.name),
                "id_number": mask_id_number(a.worker.id_number),
                "union": a.union.name,
                "categories": cats.get(a.pk, ""),
                "amount": amount,
            }
        )
    return {
        "title": "临时救助对象公示名单",
        "town": town,
        "stage_label": "拟救助" if stage == "recommended" else "已批准救助",
        "year": year,
        "rows": rows,
        "total": total,
        "starts": starts,
        "ends": ends,
        "phone": town.phone,
        "generated_on": timezone.localdate(),
    }
