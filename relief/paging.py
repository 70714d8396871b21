"""Pagination that stays fast on a large set (issue 16).

`CappedPaginator` counts at most `COUNT_CAP` rows (`SELECT COUNT(*) FROM (… LIMIT cap + 1)`),
so a count never reads a whole town's or the district's cases: past the cap the page says
"10,000+" and offers the pages up to the cap (bounded pagination; a narrower filter or a
search finds older cases). A page is read in two steps: the primary keys of the page, an
index-only walk of the ordering index, then only those rows, so a deep page does not fetch
and sort the rows it skips.
"""

from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext as _

COUNT_CAP = 10_000


class CappedCount(int):
    """The number of rows, capped; `str()` gives "10,000+" when there are more."""

    capped = False

    def __new__(cls, value, capped=False):
        obj = super().__new__(cls, value)
        obj.capped = capped
        return obj

    def label(self) -> str:
        if self.capped:
            return _("more than %(n)s") % {"n": f"{int(self):,}"}
        return f"{int(self):,}"


class CappedPaginator(Paginator):
    cap = COUNT_CAP

    @cached_property
    def count(self):
        object_list = self.object_list
        if not isinstance(object_list, QuerySet):
            return CappedCount(len(object_list))
        # Keeping the list's ordering, the planner walks the ordering's index and stops at the
        # cap, rather than scanning the table for the first cap + 1 rows it meets.
        n = object_list[: self.cap + 1].count()
        if n > self.cap:
            return CappedCount(self.cap, capped=True)
        return CappedCount(n)

    def page(self, number):
        number = self.validate_number(number)
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        pks = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {obj.pk: obj for obj in self.object_list.filter(pk__in=pks).order_by()}
        return Page([rows[pk] for pk in pks if pk in rows], number, self)
