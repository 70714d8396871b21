"""Importing workers and household members from a spreadsheet: every row checked, then all or none.

Workers are matched by ID number: a new number creates the worker at the row's grassroots
union, a known one updates the record (if the importer may edit it). A household file gives,
for each worker it names, the whole household: it replaces what was on file, as the form does.
"""

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from relief.errors import NotAllowed
from relief.models import HouseholdMember, Worker
from relief.services.audit import audit, diff, snapshot
from relief.services.ledger import may_import
from relief.services.tabular import (
    CellError,
    RowError,
    UnionLookup,
    header_errors,
    optional_text,
    parse_amount,
    parse_date,
    parse_id_number,
    parse_phone,
    required_text,
    text,
)
from relief.services.workers import (
    WORKER_FIELDS,
    _redact,
    _replace_members,
    workers_editable_by,
)
from tabular.tables import Table

# column -> Worker field
WORKER_COLUMNS = {
    "姓名": "name",
    "身份证号": "id_number",
    "基层工会": "union",
    "电话": "phone",
    "工作单位": "employer",
    "住址": "address",
    "户籍": "hukou",
    "健康状况": "health",
    "粤工惠实名": "realname_verified",
    "开户银行": "bank_name",
    "开户支行": "bank_branch",
    "银行卡号": "bank_card",
    "备注": "notes",
}
HOUSEHOLD_COLUMNS = {
    "职工身份证号": "worker",
    "关系": "relation",
    "姓名": "name",
    "身份证号": "id_number",
    "出生日期": "birth_date",
    "年龄": "age",
    "健康状况": "health",
    "就读或工作": "occupation",
    "月收入": "monthly_income",
}
YES = {"是": True, "否": False, "": False, "Y": True, "N": False, "1": True, "0": False}


@dataclass
class TableImportResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    workers: int = 0
    dry_run: bool = False


def _field_errors(exc: ValidationError, number: int, columns: dict[str, str]) -> list[RowError]:
    by_field = {f: c for c, f in columns.items()}
    return [
        RowError(number, by_field.get(name, ""), message)
        for name, messages in exc.message_dict.items()
        for message in messages
    ]


def _id_numbers(table: Table, column: str) -> set[str]:
    numbers = set()
    for _number, cells in table.rows:
        with contextlib.suppress(CellError):
            numbers.add(parse_id_number(cells.get(column)))
    return numbers


def _check_user(user) -> None:
    if not may_import(user):
        raise NotAllowed(_("Only town reviewers, district officers and administrators import."))


def workers_import(*, table: Table, user, file_name: str, dry_run: bool = False):
    _check_user(user)
    result = TableImportResult(rows=len(table.rows), dry_run=dry_run)
    result.errors = header_errors(table.headers, list(WORKER_COLUMNS))
    if result.errors:
        return result
    unions = UnionLookup(user)
    editable = workers_editable_by(user)
    on_file = {
        w.id_number: w
        for w in Worker.objects.filter(id_number__in=_id_numbers(table, "身份证号")).select_related(
            "union__parent"
        )
    }
    may_edit = set(
        editable.filter(pk__in=[w.pk for w in on_file.values()]).values_list("pk", flat=True)
    )
    planned: list[tuple[Worker | None, dict]] = []
    first_row: dict[str, int] = {}
    for number, cells in table.rows:
        bad: list[RowError] = []
        data: dict = {}
        for column, name in WORKER_COLUMNS.items():
            value = cells.get(column, "")
            try:
                if name == "union":
                    data["union"] = unions.get(value)
                elif name == "id_number":
                    data[name] = parse_id_number(value)
                elif name == "realname_verified":
                    flag = text(value)
                    if flag not in YES:
                        raise CellError(_("Write 是 or 否."))
                    data[name] = YES[flag]
                elif name == "name":
                    data[name] = required_text(value, 50)
                elif name == "bank_card":
                    if isinstance(value, float):
                        raise CellError(
                            _(
                                "The card number is stored as a number, which loses its last "
                                "digits: format the column as text and type it again."
                            )
                        )
                    data[name] = optional_text(value).replace(" ", "")
                elif name == "phone":
                    data[name] = parse_phone(value)
                else:
                    data[name] = optional_text(value)
            except CellError as exc:
                bad.append(RowError(number, column, str(exc)))
        id_number = data.get("id_number")
        existing = on_file.get(id_number) if id_number else None
        if id_number in first_row:
            bad.append(
                RowError(
                    number,
                    "身份证号",
                    _("Duplicate of row %(row)d: one row per worker.")
                    % {"row": first_row[id_number]},
                )
            )
        elif id_number:
            first_row[id_number] = number
        if existing is not None and existing.pk not in may_edit:
            bad.append(
                RowError(
                    number,
                    "身份证号",
                    # Whom to ask, never who it is: the importer's scope does not hold them.
                    _(
                        "This ID number is on file with a union of %(town)s: changes to that "
                        "record go through %(town)s."
                    )
                    % {"town": existing.union.parent.name},
                )
            )
        if not bad:
            worker = Worker(pk=existing.pk if existing else None, **data)
            try:
                worker.full_clean(validate_unique=False)
            except ValidationError as exc:
                bad.extend(_field_errors(exc, number, WORKER_COLUMNS))
        if bad:
            result.errors.extend(bad)
            continue
        planned.append((existing, data))
    result.created = sum(1 for existing, _data in planned if existing is None)
    result.updated = len(planned) - result.created
    if result.errors or dry_run:
        return result
    source = f"import:{file_name}"[:200]
    # Known workers' rows are locked in id order, as every writer locking several workers does
    # (relief.services.totals): two imports, or an import and a ledger import, queue instead
    # of deadlocking. New workers follow in the file's order.
    planned.sort(key=lambda p: (p[0] is None, p[0].pk if p[0] is not None else 0))
    with transaction.atomic():
        for existing, data in planned:
            _write_worker(existing, data, user, source)
    return result


def _write_worker(existing: Worker | None, data: dict, user, source: str) -> None:
    fields = (*WORKER_FIELDS, "union")
    if existing is None:
        worker = Worker.objects.create(**data)
        changes = diff({}, snapshot(worker, fields))
        audit(actor=user, action="import", worker=worker, changes=_redact(changes), source=source)
        return
    locked = Worker.objects.select_for_update().get(pk=existing.pk)
    before = snapshot(locked, fields)
    for name, value in data.items():
        setattr(locked, name, value)
    changes = diff(before, snapshot(locked, fields))
    if changes:
        locked.save()
        audit(actor=user, action="update", worker=locked, changes=_redact(changes), source=source)


def household_import(*, table: Table, user, file_name: str, dry_run: bool = False):
    _check_user(user)
    result = TableImportResult(rows=len(table.rows), dry_run=dry_run)
    result.errors = header_errors(table.headers, list(HOUSEHOLD_COLUMNS))
    if result.errors:
        return result
    wanted = _id_numbers(table, "职工身份证号")
    editable = {w.id_number: w for w in workers_editable_by(user).filter(id_number__in=wanted)}
    households: dict[int, tuple[Worker, list[dict]]] = {}
    for number, cells in table.rows:
        bad: list[RowError] = []
        member: dict = {}
        worker = None
        try:
            worker = editable.get(parse_id_number(cells.get("职工身份证号")))
            if worker is None:
                raise CellError(
                    _("No worker with this ID number in your unions: import the worker first.")
                )
        except CellError as exc:
            bad.append(RowError(number, "职工身份证号", str(exc)))
        for column, name in HOUSEHOLD_COLUMNS.items():
            if name == "worker":
                continue
            value = cells.get(column, "")
            try:
                if name == "birth_date":
                    member[name] = (
                        parse_date(value, not_before=dt.date(1900, 1, 1)) if text(value) else None
                    )
                elif name == "age":
                    member[name] = int(text(value)) if text(value) else None
                elif name == "monthly_income":
                    member[name] = _income(value)
                elif name == "id_number":
                    member[name] = parse_id_number(value) if text(value) else ""
                elif name in ("relation", "name"):
                    member[name] = required_text(value, 50 if name == "name" else 20)
                else:
                    member[name] = optional_text(value)
            except (CellError, ValueError) as exc:
                message = str(exc) if isinstance(exc, CellError) else _("Write a whole number.")
                bad.append(RowError(number, column, message))
        if not bad:
            try:
                HouseholdMember(worker=worker, **member).full_clean(exclude=["worker"])
            except ValidationError as exc:
                bad.extend(_field_errors(exc, number, HOUSEHOLD_COLUMNS))
        if bad:
            result.errors.extend(bad)
            continue
        households.setdefault(worker.pk, (worker, []))[1].append(member)
    result.created = sum(len(members) for _worker, members in households.values())
    result.workers = len(households)
    if result.errors or dry_run:
        return result
    source = f"import:{file_name}"[:200]
    with transaction.atomic():
        # In id order, as above.
        for worker, members in sorted(households.values(), key=lambda h: h[0].pk):
            locked = Worker.objects.select_for_update().get(pk=worker.pk)
            _replace_members(locked, user, members, source)
    return result


def _income(cell):
    if text(cell) in ("", "0", "0.00"):
        return 0
    return parse_amount(cell)
