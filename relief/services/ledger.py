"""Importing the historical ledger (台账): one row = one past case with its one payout.

`ledger_import` checks every row first and writes nothing if any row is wrong. When all rows
are right it writes them in one transaction with a bulk path: workers, cases (landing directly
in their final state, disbursed), their categories, payouts and one audit entry per case and
per new worker, with references handed out by ReferenceCounter as for any case. The admin
resource and `manage.py import_ledger` both call it.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Case, Count, ExpressionWrapper, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.errors import NotAllowed
from relief.models import (
    Application,
    FundSource,
    HardshipCategory,
    Policy,
    Worker,
)
from relief.models.money import yuan
from relief.services.ledger_write import discard, prepare_ledger, write_ledger
from relief.services.tabular import (
    CellError,
    RowError,
    UnionLookup,
    header_errors,
    optional_text,
    parse_amount,
    parse_date,
    parse_id_number,
    required_text,
    text,
)
from tabular.tables import Table
from unions.models import Role, Union
from unions.selectors import scope_q

LEDGER_COLUMNS = [
    "姓名",
    "身份证号",
    "基层工会",
    "困难类别",
    "困难情况",
    "申请日期",
    "批准金额",
    "发放日期",
    "发放金额",
    "资金来源",
    "凭证号",
    "备注",
]
# Columns a ledger may have; a row without 批准日期 lands without an approval date (the
# payout report prints "—" for it, with a footnote).
LEDGER_OPTIONAL_COLUMNS = ["批准日期"]
# The ledger's own words for fund sources, whatever the interface language.
FUND_SOURCES = {
    "区拨款": FundSource.DISTRICT,
    "镇自筹": FundSource.TOWN,
    "十元捐": FundSource.DONATION,
}
FUND_SOURCE_WORDS = {v: k for k, v in FUND_SOURCES.items()}
CATEGORY_SEPARATOR = "、"
IMPORTING_ROLES = {Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER}
CHUNK = 900  # ids per IN (...) lookup, under SQLite's historical parameter limit


@dataclass
class LedgerRow:
    row: int
    name: str
    id_number: str
    union: Union
    categories: list[HardshipCategory]
    narrative: str
    application_date: dt.date
    approved_amount: Decimal
    paid_on: dt.date
    paid_amount: Decimal
    fund_source: str
    voucher_no: str
    notes: str
    policy: Policy
    approved_on: dt.date | None = None


@dataclass
class LedgerImportResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    workers_created: int = 0
    workers_existing: int = 0
    cases: int = 0
    payouts: int = 0
    total_paid: Decimal = Decimal("0")
    dry_run: bool = False
    parsed: list[LedgerRow] = field(default_factory=list)


def may_import(user) -> bool:
    return user.is_active and (user.is_superuser or user.role in IMPORTING_ROLES)


def ledger_import(*, table: Table, user, file_name: str, dry_run: bool = False, claim=None):
    """Check every row of `table`; unless `dry_run` or any error, write them all.

    Scoped: each row's 基层工会 must lie in `user`'s subtree (superusers: anywhere). The rows
    are checked outside any transaction, then written in one; `claim` (import_once's key for
    the file) runs first inside it.
    """
    if not may_import(user):
        raise NotAllowed(_("Only town reviewers, district officers and administrators import."))
    result = LedgerImportResult(rows=len(table.rows), dry_run=dry_run)
    result.errors = header_errors(table.headers, LEDGER_COLUMNS, LEDGER_OPTIONAL_COLUMNS)
    if result.errors:
        return result
    if not table.rows:
        result.errors.append(RowError(1, "", _("The file has a header row but no data rows.")))
        return result
    mark = _write_mark()
    parser = _RowParser(user)
    for number, cells in table.rows:
        parsed = parser.parse(number, cells, result.errors)
        if parsed is not None:
            result.parsed.append(parsed)
    ids = {r.id_number for r in result.parsed}
    existing = _existing_workers(ids, user)
    _check_across_rows(result.parsed, existing, result.errors)
    order = [*LEDGER_COLUMNS, *LEDGER_OPTIONAL_COLUMNS]
    result.errors.sort(key=lambda e: (e.row, order.index(e.column) if e.column else -1))
    result.workers_existing = len(existing)
    result.workers_created = len(ids) - len(existing)
    result.cases = result.payouts = len(result.parsed)
    result.total_paid = sum((r.paid_amount for r in result.parsed), Decimal("0"))
    if result.errors or dry_run:
        return result
    prepared = prepare_ledger(result.parsed, existing, user, file_name)
    try:
        _write(prepared, result, existing, user, file_name, claim, mark)
    finally:
        discard(prepared)
    return result


def _write(prepared, result, existing, user, file_name, claim, mark) -> None:
    with transaction.atomic():
        if claim is not None:
            claim()
        if connection.vendor == "sqlite" and _changed_meanwhile(
            result.parsed, existing, user, mark
        ):
            # Checked outside the write lock: whatever was filed or imported since for these
            # workers is checked again here, under it (one query per 500 ID numbers) — unless
            # nothing at all was written since (the common case, and the cheap check).
            _changed(result)
            transaction.set_rollback(True)
            return
        try:
            with transaction.atomic():
                write_ledger(prepared, user, file_name)
        except IntegrityError:
            # Someone filed or imported the same workers or cases between the check and the
            # write (PostgreSQL: the checks hold no lock, the constraints decide).
            _changed(result)
            transaction.set_rollback(True)


def _changed(result) -> None:
    result.errors.append(
        RowError(1, "", _("The data changed while importing; nothing was written. Try again."))
    )


def _write_mark():
    """What changes whenever a worker, case or payout is added, changed or deleted (SQLite).

    Taken before the rows are checked and again under the write lock: equal, nothing the
    checks read can have changed. Every change of a case or worker goes through a service
    that writes an audit entry; the rest catches what does not (the admin's own saves)."""
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT MAX(id) FROM relief_auditentry), "
            "(SELECT MAX(id) FROM relief_disbursement), "
            "(SELECT COUNT(*) FROM relief_worker), (SELECT MAX(id) FROM relief_worker), "
            "(SELECT MAX(updated_at) FROM relief_worker), "
            "(SELECT COUNT(*) FROM relief_application), "
            "(SELECT MAX(id) FROM relief_application), "
            "(SELECT MAX(updated_at) FROM relief_application)"
        )
        return cursor.fetchone()


def _changed_meanwhile(rows, existing, user, mark=None) -> bool:
    """Any of these ID numbers filed, or a case of theirs added, since the rows were checked."""
    if mark is not None and _write_mark() == mark:
        return False
    now = _existing_workers({r.id_number for r in rows}, user)
    if now != existing:
        return True
    errors: list[RowError] = []
    _check_across_rows(rows, now, errors)
    return bool(errors)


ledger_import.claims_in_its_write = True


class _RowParser:
    def __init__(self, user):
        self.unions = UnionLookup(user)
        self.categories = {c.name: c for c in HardshipCategory.objects.all()}
        self.policies = list(Policy.objects.order_by("-effective_from"))
        self.today = timezone.localdate()

    def parse_date(self, cell) -> dt.date:
        return parse_date(cell, not_after=self.today)

    def parse_optional_date(self, cell) -> dt.date | None:
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        return self.parse_date(cell)

    def policy_on(self, date: dt.date) -> Policy | None:
        return next((p for p in self.policies if p.effective_from <= date), None)

    def parse(self, number: int, cells: dict, errors: list[RowError]) -> LedgerRow | None:
        values, bad = {}, []

        def cell(column, parse):
            try:
                values[column] = parse(cells.get(column, ""))
            except CellError as exc:
                bad.append(RowError(number, column, str(exc)))

        cell("姓名", lambda c: required_text(c, 50))
        cell("身份证号", parse_id_number)
        cell("基层工会", self.unions.get)
        cell("困难类别", self.parse_categories)
        cell("困难情况", lambda c: required_text(c, 5000))
        cell("申请日期", self.parse_date)
        cell("批准金额", parse_amount)
        cell("发放日期", self.parse_date)
        cell("发放金额", parse_amount)
        cell("资金来源", self.parse_fund_source)
        cell("凭证号", lambda c: optional_text(c, 50))
        cell("备注", lambda c: optional_text(c, 1000))
        cell("批准日期", self.parse_optional_date)
        policy = None
        applied, approved = values.get("申请日期"), values.get("批准金额")
        paid_on, paid = values.get("发放日期"), values.get("发放金额")
        if applied is not None:
            policy = self.policy_on(applied)
            if policy is None:
                bad.append(
                    RowError(
                        number,
                        "申请日期",
                        _("No relief policy is in force on %(date)s.") % {"date": applied},
                    )
                )
        if policy is not None and approved is not None and approved > policy.max_per_payout:
            bad.append(
                RowError(
                    number,
                    "批准金额",
                    _("%(amount)s is above the cap of %(cap)s per payout set by %(policy)s.")
                    % {
                        "amount": yuan(approved),
                        "cap": yuan(policy.max_per_payout),
                        "policy": policy,
                    },
                )
            )
        if applied is not None and paid_on is not None and paid_on < applied:
            bad.append(
                RowError(
                    number,
                    "发放日期",
                    _("Paid on %(paid)s, before the application date %(applied)s.")
                    % {"paid": paid_on.isoformat(), "applied": applied.isoformat()},
                )
            )
        approved_on = values.get("批准日期")
        if approved_on is not None and applied is not None and approved_on < applied:
            bad.append(
                RowError(
                    number,
                    "批准日期",
                    _("Approved on %(approved)s, before the application date %(applied)s.")
                    % {"approved": approved_on.isoformat(), "applied": applied.isoformat()},
                )
            )
        elif approved_on is not None and paid_on is not None and approved_on > paid_on:
            bad.append(
                RowError(
                    number,
                    "批准日期",
                    _("Approved on %(approved)s, after the payment date %(paid)s.")
                    % {"approved": approved_on.isoformat(), "paid": paid_on.isoformat()},
                )
            )
        if approved is not None and paid is not None and paid != approved:
            message = (
                _("%(paid)s is above the approved amount %(approved)s.")
                if paid > approved
                else _(
                    "%(paid)s is less than the approved amount %(approved)s: a ledger row is one "
                    "payout of the whole approved amount."
                )
            )
            bad.append(
                RowError(
                    number, "发放金额", message % {"paid": yuan(paid), "approved": yuan(approved)}
                )
            )
        if bad:
            errors.extend(bad)
            return None
        return LedgerRow(
            row=number,
            name=values["姓名"],
            id_number=values["身份证号"],
            union=values["基层工会"],
            categories=values["困难类别"],
            narrative=values["困难情况"],
            application_date=applied,
            approved_amount=approved,
            paid_on=paid_on,
            paid_amount=paid,
            fund_source=values["资金来源"],
            voucher_no=values["凭证号"],
            notes=values["备注"],
            policy=policy,
            approved_on=approved_on,
        )

    def parse_categories(self, cell) -> list[HardshipCategory]:
        names = [n.strip() for n in text(cell).split(CATEGORY_SEPARATOR) if n.strip()]
        if not names:
            raise CellError(_("This cell is required."))
        unknown = [n for n in names if n not in self.categories]
        if unknown:
            raise CellError(
                _(
                    "Unknown hardship category: %(names)s (known: %(known)s; "
                    "separate several with 、)."
                )
                % {"names": "、".join(unknown), "known": "、".join(self.categories)}
            )
        return [self.categories[n] for n in dict.fromkeys(names)]

    def parse_fund_source(self, cell) -> str:
        value = text(cell)
        if value not in FUND_SOURCES:
            raise CellError(
                _("Unknown fund source “%(value)s”: use %(choices)s.")
                % {"value": value, "choices": "、".join(FUND_SOURCES)}
            )
        return FUND_SOURCES[value]


def _chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing_workers(ids, user) -> dict[str, dict]:
    """Workers on file, each marked whether the importer's scope holds them (`held`).

    Messages about a worker held elsewhere never name them: they say the number is on file
    and which town federation to ask (`town`).
    """
    scope = scope_q(user, "union")
    # A superuser's scope is Q(), which cannot be a condition: everything is held then.
    held = Case(When(scope, then=True), default=False) if scope else Value(True)
    found = {}
    for chunk in _chunks(ids):
        rows = (
            Worker.objects.filter(id_number__in=chunk)
            .annotate(held=ExpressionWrapper(held, output_field=BooleanField()))
            .values("pk", "id_number", "name", "held", "union__parent__name")
        )
        for w in rows:
            w["town"] = w.pop("union__parent__name")
            found[w["id_number"]] = w
    return found


def _check_across_rows(rows: list[LedgerRow], existing: dict, errors: list[RowError]) -> None:
    """One person per ID number; no case twice; the yearly and per-category caps."""
    first_name: dict[str, tuple[str, int]] = {}
    seen: dict[tuple[str, dt.date], int] = {}
    for r in rows:
        known = existing.get(r.id_number)
        if known is not None and known["name"] != r.name:
            errors.append(
                RowError(
                    r.row,
                    "姓名",
                    _("This ID number is on file as %(name)s, not %(given)s.")
                    % {"name": known["name"], "given": r.name}
                    if known["held"]
                    else _(
                        "This ID number is on file with a union of %(town)s under another "
                        "name: check the name and the number with %(town)s."
                    )
                    % {"town": known["town"]},
                )
            )
        elif r.id_number in first_name and first_name[r.id_number][0] != r.name:
            name, row = first_name[r.id_number]
            errors.append(
                RowError(
                    r.row,
                    "姓名",
                    _("Row %(row)d gives this ID number the name %(name)s: one ID, one person.")
                    % {"row": row, "name": name},
                )
            )
        first_name.setdefault(r.id_number, (r.name, r.row))
        key = (r.id_number, r.application_date)
        if key in seen:
            errors.append(
                RowError(
                    r.row,
                    "申请日期",
                    _("Duplicate of row %(row)d: same ID number and application date.")
                    % {"row": seen[key]},
                )
            )
        seen.setdefault(key, r.row)
    cases = list(_cases_on_file(existing))
    _check_against_cases_on_file(rows, cases, existing, errors)
    _check_yearly_caps(rows, cases, existing, errors)
    _check_public_notices(rows, cases, existing, errors)


def _cases_on_file(existing: dict[str, dict]):
    worker_ids = [w["pk"] for w in existing.values()]
    for chunk in _chunks(worker_ids):
        yield from Application.objects.filter(worker_id__in=chunk).values(
            "pk",
            "worker_id",
            "reference",
            "application_date",
            "approved_amount",
            "state",
            "policy__notice_required",
        )


def _check_against_cases_on_file(rows, cases, existing, errors) -> None:
    on_file = {(c["worker_id"], c["application_date"]): c["reference"] for c in cases}
    for r in rows:
        worker = existing.get(r.id_number)
        reference = worker and on_file.get((worker["pk"], r.application_date))
        if reference and not worker["held"]:
            errors.append(
                RowError(
                    r.row,
                    "申请日期",
                    _(
                        "A case with this ID number and application date is already on file "
                        "at %(town)s: check with %(town)s."
                    )
                    % {"town": worker["town"]},
                )
            )
        elif reference:
            errors.append(
                RowError(
                    r.row,
                    "申请日期",
                    _(
                        "Already on file as case %(reference)s (same ID number and "
                        "application date)."
                    )
                    % {"reference": reference},
                )
            )


def _check_yearly_caps(rows, cases, existing, errors) -> None:
    """Per worker and calendar year, with the cases on file, under each policy's caps."""
    yearly: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    categories_used: dict[tuple[str, int], set[int]] = defaultdict(set)
    worker_id_number = {w["pk"]: n for n, w in existing.items()}
    if existing and any(
        r.policy.max_per_worker_year or r.policy.one_per_category_per_year for r in rows
    ):
        committed = [c for c in cases if c["state"] in wf.COMMITTED]
        for c in committed:
            key = (worker_id_number[c["worker_id"]], c["application_date"].year)
            yearly[key] += c["approved_amount"]
        through = Application.categories.through
        case_key = {
            c["pk"]: (worker_id_number[c["worker_id"]], c["application_date"].year)
            for c in committed
        }
        for chunk in _chunks(case_key):
            for link in through.objects.filter(application_id__in=chunk).values(
                "application_id", "hardshipcategory_id"
            ):
                categories_used[case_key[link["application_id"]]].add(link["hardshipcategory_id"])
    for r in sorted(rows, key=lambda r: (r.application_date, r.row)):
        key = (r.id_number, r.application_date.year)
        policy = r.policy
        cap = policy.max_per_worker_year
        if cap is not None and yearly[key] + r.approved_amount > cap:
            errors.append(
                RowError(
                    r.row,
                    "批准金额",
                    _(
                        "With %(amount)s this worker would receive %(total)s in %(year)d, above "
                        "the yearly cap of %(cap)s set by %(policy)s (already approved: "
                        "%(already)s)."
                    )
                    % {
                        "amount": yuan(r.approved_amount),
                        "total": yuan(yearly[key] + r.approved_amount),
                        "year": key[1],
                        "cap": yuan(cap),
                        "policy": policy,
                        "already": yuan(yearly[key]),
                    },
                )
            )
        mine = {c.pk for c in r.categories}
        if policy.one_per_category_per_year and mine & categories_used[key]:
            names = "、".join(c.name for c in r.categories if c.pk in categories_used[key])
            errors.append(
                RowError(
                    r.row,
                    "困难类别",
                    _(
                        "%(policy)s allows one payout per worker per category per year; this "
                        "worker was already helped in %(year)d for: %(categories)s."
                    )
                    % {"policy": policy, "year": key[1], "categories": names},
                )
            )
        yearly[key] += r.approved_amount
        categories_used[key] |= mine


def _held_by_notice(cases) -> dict[int, tuple[dict, str]]:
    """The cases on file that the public-notice guard holds (relief.services.notices): each
    recommended case the district may not approve yet, by worker, with the reason.

    Set-based: one query for the cases' latest recommendations and one for the notices
    covering them and their unresolved objections, for all rows at once (none when no worker
    of the file has a recommended case).
    """
    from relief.models import NoticeItem
    from relief.services.notices import NoticeStatus, _latest_recommendation_ids

    recommended = {c["pk"]: c for c in cases if c["state"] == wf.S_RECOMMENDED}
    if not recommended:
        return {}
    latest: dict[int, int] = {}
    for chunk in _chunks(recommended):
        latest.update(_latest_recommendation_ids(chunk))
    items = {}
    for chunk in _chunks(latest.values()):
        for item in (
            NoticeItem.objects.filter(recommendation_id__in=chunk)
            .select_related("notice")
            .annotate(
                unresolved=Count("objections", filter=Q(objections__outcome=""), distinct=True)
            )
        ):
            items[item.application_id] = item
    today = timezone.localdate()
    held: dict[int, tuple[dict, str]] = {}
    for pk, case in sorted(recommended.items()):
        item = items.get(pk)
        status = NoticeStatus(
            required=bool(case["policy__notice_required"]),
            item=item,
            unresolved=item.unresolved if item else 0,
            today=today,
        )
        reason = status.blocks_approval
        if reason:
            held.setdefault(case["worker_id"], (case, reason))
    return held


def _check_public_notices(rows, cases, existing, errors) -> None:
    """No payout for a worker, made since their case on file was filed, while that case waits
    for its public notice: the district could not pay that case yet (its approval waits for
    the notice to end without an unresolved objection), and a payout imported meanwhile would
    get round the guard. Earlier payouts are history the notice does not cover and import as
    before; so does every row of a worker without such a case.
    """
    held = _held_by_notice(cases)
    if not held:
        return
    for r in rows:
        worker = existing.get(r.id_number)
        found = worker and held.get(worker["pk"])
        if not found:
            continue
        case, reason = found
        if r.paid_on < case["application_date"]:
            continue
        if not worker["held"]:
            message = _(
                "This worker has a case at %(town)s waiting for its public notice: a payout "
                "made since it was filed cannot be imported until the district may approve it; "
                "check with %(town)s."
            ) % {"town": worker["town"]}
        else:
            message = _(
                "Case %(reference)s of this worker (filed on %(filed)s) waits for its public "
                "notice: %(reason)s A payout made since it was filed cannot be imported until "
                "the district may approve that case."
            ) % {
                "reference": case["reference"],
                "filed": case["application_date"].isoformat(),
                "reason": reason,
            }
        errors.append(RowError(r.row, "发放日期", message))
