"""All-or-nothing import of the union hierarchy from CSV or XLSX (`import_unions`).

Columns: 代码, 名称, 级别 (区/镇/基层), 类型 (社区/企业/村居, empty for 区 and 镇), 上级代码.
Every row is checked against the tree as it would be after the import (the database plus the
file); any error leaves the database untouched.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from tabular.tables import RowError, read_table, require_columns
from unions.models import PARENT_LEVEL, Kind, Level, Union
from unions.services import union_rebuild_paths

COLUMNS = ["代码", "名称", "级别", "类型", "上级代码"]
LEVELS = {"区": Level.DISTRICT, "镇": Level.TOWN, "基层": Level.GRASSROOTS}
KINDS = {"社区": Kind.COMMUNITY, "企业": Kind.ENTERPRISE, "村居": Kind.VILLAGE}


@dataclass
class UnionImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass
class _Planned:
    row: int
    code: str
    name: str
    level: str
    kind: str
    parent_code: str


def import_unions(path) -> UnionImportResult:
    table = read_table(path)
    result = UnionImportResult()
    missing = require_columns(table, COLUMNS)
    if missing:
        result.errors.append(
            RowError(1, "", _("missing columns: %(cols)s") % {"cols": "、".join(missing)})
        )
        return result
    planned = _parse_rows(table.rows, result.errors)
    _check_tree(planned, result.errors)
    if result.errors:
        return result
    with transaction.atomic():
        _write(planned, result)
    return result


def _parse_rows(rows, errors: list[RowError]) -> list[_Planned]:
    planned: list[_Planned] = []
    first_row_of: dict[str, int] = {}
    for number, cells in rows:
        code = str(cells["代码"]).strip()
        name = str(cells["名称"]).strip()
        level_text = str(cells["级别"]).strip()
        kind_text = str(cells["类型"]).strip()
        parent_code = str(cells["上级代码"]).strip()
        row_errors = []
        if not code:
            row_errors.append(RowError(number, "代码", _("code is required")))
        elif len(code) > 32:
            row_errors.append(RowError(number, "代码", _("code is longer than 32 characters")))
        elif code in first_row_of:
            row_errors.append(
                RowError(
                    number,
                    "代码",
                    _("duplicate code %(code)s, already on row %(row)d")
                    % {"code": code, "row": first_row_of[code]},
                )
            )
        if not name:
            row_errors.append(RowError(number, "名称", _("name is required")))
        elif len(name) > 100:
            row_errors.append(RowError(number, "名称", _("name is longer than 100 characters")))
        level = LEVELS.get(level_text)
        if level is None:
            row_errors.append(
                RowError(
                    number,
                    "级别",
                    _("level must be 区, 镇 or 基层, not “%(v)s”") % {"v": level_text},
                )
            )
        kind = ""
        if level == Level.GRASSROOTS:
            kind = KINDS.get(kind_text, "")
            if not kind:
                row_errors.append(
                    RowError(
                        number,
                        "类型",
                        _("a grassroots union needs a type: 社区, 企业 or 村居, not “%(v)s”")
                        % {"v": kind_text},
                    )
                )
        elif level is not None and kind_text:
            row_errors.append(RowError(number, "类型", _("only grassroots unions have a type")))
        if level == Level.DISTRICT and parent_code:
            row_errors.append(
                RowError(number, "上级代码", _("a district federation has no parent"))
            )
        elif level in (Level.TOWN, Level.GRASSROOTS) and not parent_code:
            row_errors.append(RowError(number, "上级代码", _("parent code is required")))
        if code and code not in first_row_of:
            first_row_of[code] = number
        errors.extend(row_errors)
        if not row_errors:
            planned.append(_Planned(number, code, name, level, kind, parent_code))
    return planned


def _check_tree(planned: list[_Planned], errors: list[RowError]) -> None:
    """Check parents, level order and cycles against the tree as it would be afterwards."""
    existing = {
        u.code: (u.level, u.parent.code if u.parent else "")
        for u in Union.objects.select_related("parent")
    }
    final = dict(existing)
    for p in planned:
        final[p.code] = (p.level, p.parent_code)
    for p in planned:
        if not p.parent_code:
            continue
        if p.parent_code not in final:
            errors.append(
                RowError(
                    p.row, "上级代码", _("unknown parent code %(code)s") % {"code": p.parent_code}
                )
            )
            continue
        looping = _cycle_at(p.code, final)
        if looping:
            errors.append(
                RowError(
                    p.row,
                    "上级代码",
                    _("parent chain loops back to %(code)s (cycle)") % {"code": looping},
                )
            )
            continue
        parent_level = final[p.parent_code][0]
        if parent_level != PARENT_LEVEL[p.level]:
            errors.append(
                RowError(
                    p.row,
                    "上级代码",
                    _(
                        "wrong level order: the parent of a %(level)s must be a %(expected)s, "
                        "but %(code)s is a %(actual)s"
                    )
                    % {
                        "level": Level(p.level).label,
                        "expected": Level(PARENT_LEVEL[p.level]).label,
                        "code": p.parent_code,
                        "actual": Level(parent_level).label,
                    },
                )
            )
    # A union whose level changes must not strand the children it already has.
    by_code = {p.code: p for p in planned}
    for code, (level, parent_code) in existing.items():
        parent = by_code.get(parent_code)
        if code in by_code or parent is None:
            continue
        if PARENT_LEVEL[level] != parent.level:
            errors.append(
                RowError(
                    parent.row,
                    "级别",
                    _("existing union %(child)s under %(code)s would no longer fit this level")
                    % {"child": code, "code": parent.code},
                )
            )


def _cycle_at(code: str, final: dict[str, tuple[str, str]]) -> str:
    """The code where following parents from `code` comes round again; "" if it never does."""
    seen = {code}
    current = final[code][1]
    while current:
        if current in seen:
            return current
        seen.add(current)
        current = final.get(current, ("", ""))[1]
    return ""


def _write(planned: list[_Planned], result: UnionImportResult) -> None:
    order = {Level.DISTRICT: 0, Level.TOWN: 1, Level.GRASSROOTS: 2}
    by_code = {u.code: u for u in Union.objects.select_for_update()}
    for p in sorted(planned, key=lambda p: order[p.level]):
        parent = by_code[p.parent_code] if p.parent_code else None
        union = by_code.get(p.code)
        if union is None:
            # A placeholder path keeps the unique index happy until the rebuild below.
            union = Union(code=p.code, path=f"~import-{p.code}"[:64])
            result.created += 1
        else:
            result.updated += 1
        union.name, union.level, union.kind, union.parent = p.name, p.level, p.kind, parent
        union.full_clean(exclude=["path"])
        union.save()
        by_code[p.code] = union
    union_rebuild_paths()
