"""Pagination that stays fast on a large set (issue 16): a capped count, and keyset paging.

`CappedPaginator` counts at most `COUNT_CAP` rows (`SELECT COUNT(*) FROM (… LIMIT cap + 1)`),
so a count never reads a whole town's or the district's cases: past the cap the page says
"10,000+" and offers the pages up to the cap (bounded pagination; a narrower filter or a
search finds older cases). The first page comes with the count in one query; a later page is
read in two steps: the primary keys of the page, an index-only walk of the ordering index,
then only those rows, so a deep page does not fetch and sort the rows it skips.
"""

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from django.core.paginator import Page, Paginator
from django.db.models import IntegerField, Q, QuerySet, Subquery, prefetch_related_objects
from django.utils.translation import gettext as _

COUNT_CAP = 10_000


class CappedCount(int):
    """The number of rows, capped; `str()` gives "10,000+" when there are more."""

    capped = False

    def __new__(cls, value, capped=False):
        obj = super().__new__(cls, value)
        obj.capped = capped
        return obj

    def digits(self) -> str:
        """The number with thousands separators ("1,000")."""
        return f"{int(self):,}"

    def label(self) -> str:
        if self.capped:
            return _("more than %(n)s") % {"n": f"{int(self):,}"}
        return f"{int(self):,}"


class _CountOf(Subquery):
    """`(SELECT COUNT(*) FROM (<the queryset>) capped)`: the rows of a (sliced) queryset, as a
    scalar subquery; not correlated, so the database evaluates it once per statement."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) capped)"
    output_field = IntegerField()


def _count_order(model) -> tuple[str, ...]:
    """The order the capped count reads rows in: the one its scope is indexed by.

    Not the list's own ordering: with it, a town's count collected and sorted every case of the
    town before it could stop at the cap (110,000 rows, 70 ms at a city's scale). Not none
    either: unordered, the planner may pick a sequential scan that happens to stop early on a
    big scope but reads the whole table when a filter is narrow. By union, the scope is walked
    union by union from the union's index (the foreign key, or a filter's composite index) and
    the walk stops at the cap: 2-3 ms for a town or the district.
    """
    names = {field.name for field in model._meta.concrete_fields}
    return ("union_id",) if "union" in names else ("pk",)


class CappedPaginator(Paginator):
    """Counts up to `cap` rows; the first page and the count come in ONE query.

    A list's first page is what is asked for nearly always, so `count` reads it together with
    the capped count (`SELECT …, (SELECT COUNT(*) FROM (… LIMIT cap + 1)) FROM … LIMIT
    per_page`, the count an uncorrelated subquery the database evaluates once). Page 1 then
    costs no further query, and the query count is the same whether the list fits on one page
    or not (the admin's ChangeList takes its rows from `first_page_rows` when it does not page,
    relief.admin_search.TokenSearchChangeList). The list's `prefetch_related` runs for the rows
    of the page shown only. A later page reads its primary keys, then only those rows.
    """

    cap = COUNT_CAP
    COUNT_ALIAS = "_capped_count"

    @cached_property
    def count(self):
        object_list = self.object_list
        if not isinstance(object_list, QuerySet):
            return CappedCount(len(object_list))
        rows = self._first_rows
        n = getattr(rows[0], self.COUNT_ALIAS) if rows else 0
        if n > self.cap:
            return CappedCount(self.cap, capped=True)
        return CappedCount(n)

    @cached_property
    def _first_rows(self) -> list:
        """The first page's rows (and as many orphans as it may take), each carrying the
        capped count; without the list's prefetches (done for the page shown)."""
        qs = self.object_list
        capped = _CountOf(qs.order_by(*_count_order(qs.model)).values("pk")[: self.cap + 1])
        counted = qs.prefetch_related(None).annotate(**{self.COUNT_ALIAS: capped})
        return list(counted[: self.per_page + self.orphans])

    @cached_property
    def first_page_rows(self) -> list:
        """Page 1's objects, the list's prefetches done (read with the count)."""
        if not isinstance(self.object_list, QuerySet):
            return None
        top = self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self._first_rows[:top]
        lookups = self.object_list._prefetch_related_lookups
        if lookups:
            prefetch_related_objects(rows, *lookups)
        return rows

    def page(self, number):
        number = self.validate_number(number)
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        if number == 1:
            return Page(self.first_page_rows, number, self)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        pks = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {obj.pk: obj for obj in self.object_list.filter(pk__in=pks).order_by()}
        return Page([rows[pk] for pk in pks if pk in rows], number, self)


# ---------------------------------------------------------------------- keyset (seek) paging
# A list ordered newest first by (date, pk) pages by the last row's key instead of an OFFSET:
# `?after=<date>.<pk>` gives the rows after that key, `?before=<date>.<pk>` the rows before it
# (read oldest first, then turned round). Each page is one index range read, however deep:
# an OFFSET reads and drops every row it skips. The key is not secret (the date and the
# number of a case the user has just been shown) and the scope filter applies as to any page,
# so it is validated, not signed: anything but a real date and a positive number is ignored and
# the list starts from its first page.

# A date and a primary key of at most 18 digits (a BigAutoField's bigint holds 19).
CURSOR = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\.([1-9][0-9]{0,17})")


class Cursor(NamedTuple):
    date: dt.date
    pk: int

    def __str__(self) -> str:
        return f"{self.date.isoformat()}.{self.pk}"


def parse_cursor(value) -> Cursor | None:
    """A cursor from the address, or None for anything that is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    match = CURSOR.fullmatch(value)
    if not match:
        return None
    year, month, day, pk = (int(part) for part in match.groups())
    try:
        return Cursor(dt.date(year, month, day), pk)
    except ValueError:
        return None


@dataclass
class KeysetPage:
    object_list: list
    has_next: bool
    has_previous: bool
    # The number of rows of the whole list, capped: on the first page only (None elsewhere).
    count: CappedCount | None = None
    date_field: str = "application_date"

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    @property
    def is_first(self) -> bool:
        return not self.has_previous

    @property
    def next_cursor(self) -> str:
        return self._key(self.object_list[-1]) if self.has_next and self.object_list else ""

    @property
    def previous_cursor(self) -> str:
        return self._key(self.object_list[0]) if self.has_previous and self.object_list else ""

    def _key(self, row) -> str:
        return str(Cursor(getattr(row, self.date_field), row.pk))


def keyset_page(
    queryset: QuerySet,
    per_page: int,
    *,
    after=None,
    before=None,
    date_field: str = "application_date",
    count_cap: int = COUNT_CAP,
) -> KeysetPage:
    """One page of `queryset` in the order (-date_field, -pk), from the cursors' raw values.

    The first page (no valid cursor) also counts the list up to `count_cap` rows. One query for
    the rows (per_page + 1 of them, to know whether there is a next page), one for the count.
    """
    after, before = parse_cursor(after), parse_cursor(before)
    f = date_field
    if after:
        # The redundant `date <= d` is the index's range condition; the OR only drops the
        # rows of that very day at or above the key.
        rows = list(
            queryset.filter(
                Q(**{f"{f}__lt": after.date}) | Q(**{f: after.date, "pk__lt": after.pk}),
                **{f"{f}__lte": after.date},
            ).order_by(f"-{f}", "-pk")[: per_page + 1]
        )
        return KeysetPage(rows[:per_page], len(rows) > per_page, True, date_field=f)
    if before:
        rows = list(
            queryset.filter(
                Q(**{f"{f}__gt": before.date}) | Q(**{f: before.date, "pk__gt": before.pk}),
                **{f"{f}__gte": before.date},
            ).order_by(f, "pk")[: per_page + 1]
        )
        more = len(rows) > per_page
        return KeysetPage(rows[:per_page][::-1], True, more, date_field=f)
    ordered = queryset.order_by(f"-{f}", "-pk")
    rows = list(ordered[: per_page + 1])
    if len(rows) <= per_page:
        count = CappedCount(len(rows))
    else:
        n = ordered[: count_cap + 1].count()
        count = CappedCount(count_cap, capped=True) if n > count_cap else CappedCount(n)
    return KeysetPage(rows[:per_page], len(rows) > per_page, False, count, date_field=f)
