"""What a search term means, for the caseworker's list and the admin alike (issue 16).

Every branch is an equality or a prefix match that an index serves, never `LIKE '%…%'` over
a large table:

- a full ID number (18 characters; spaces, full-width digits and a lower-case x are
  normalised first) is equality on `Worker.id_number`, which is stored normalised (a CHECK
  allows only 17 digits and a digit or X) and unique;
- the end of an ID number (5 to 17 characters, digits and a final X: "the last six digits"
  people quote) is a prefix match on the reversed number (an expression index on PostgreSQL,
  migration 0012);
- a case reference (ASCII letters, digits and hyphens, "XQ-2024-0007") matches from its start,
  upper-cased; with a digit in it, it is not searched as a name as well;
- a name: three characters or more anywhere in the name (a pg_trgm GIN index on PostgreSQL);
  two characters at the start or the end of the name (surname + first given character, or
  the given name: trigrams of a two-character fragment exist only at a name's edges); one
  character at the start (a surname).

Cases by their worker: a name of two characters or more, or an ID tail, matches few workers,
so the cases are found from the workers (`worker_id = ANY(ARRAY(SELECT id FROM relief_worker
WHERE …))`, the cases' worker index), not by joining each case to its worker. Joined, the
planner misjudges how many workers a name matches (1 % of them, where 杨森 is 258 of 1,000,000)
and, for a page of 50 newest first, walks the district's cases by date testing each one's
worker: 0.9-1.5 s for 杨森 at a city's scale, 3 ms this way. A one-character surname matches
many (何: 37,000 workers), and there the walk finds its page soon (13 ms, 240 ms the other
way round), so it stays a join.
"""

import re

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Reverse

from relief.idcard import normalize_id_number

FULL_ID = re.compile(r"[0-9]{17}[0-9X]")
ID_TAIL = re.compile(r"[0-9]{4,16}[0-9X]")
REFERENCE = re.compile(r"[A-Z0-9][A-Z0-9-]*")

# An annotation name; `id_tail_q` filters on it.
REVERSED_ID = "reversed_id_number"


def with_reversed_id(queryset, prefix: str = ""):
    """The queryset with the reversed ID number annotated (the expression of the index)."""
    return queryset.annotate(**{REVERSED_ID: Reverse(f"{prefix}id_number")})


def name_q(term: str, field: str) -> Q:
    term = term.strip()
    if len(term) >= 3:
        return Q(**{f"{field}__contains": term})
    if len(term) == 2:
        return Q(**{f"{field}__startswith": term}) | Q(**{f"{field}__endswith": term})
    return Q(**{f"{field}__startswith": term})


def parse(term: str) -> dict:
    """{"id": ..., "id_tail": ..., "reference": ..., "name": ...}: what the term may be."""
    term = (term or "").strip()
    found = {}
    if not term:
        return found
    number = "".join(normalize_id_number(term).replace("-", " ").split())
    if FULL_ID.fullmatch(number):
        found["id"] = number
        return found
    if ID_TAIL.fullmatch(number):
        found["id_tail"] = number
        return found
    upper = normalize_id_number(term)
    if upper.isascii() and REFERENCE.fullmatch(upper) and not upper.isdigit():
        found["reference"] = upper
    # A reference with a digit in it ("GC-2017-0541", "xq-2024") is not a name: searched as
    # a name too, its OR across the case and the worker could use neither index and read every
    # case in scope. Letters alone ("XQ", "Li") may be either.
    if not upper.isdigit() and not ("reference" in found and any(c.isdigit() for c in upper)):
        found["name"] = term
    return found


def needs_reversed_id(term: str) -> bool:
    return "id_tail" in parse(term)


def worker_q(term: str, prefix: str = "") -> Q:
    """Workers (or, with prefix "worker__", cases by their worker) matching `term`.

    An ID tail needs the queryset annotated with `with_reversed_id(qs, prefix)` first."""
    parts = parse(term)
    q = Q(pk__in=[])
    if "id" in parts:
        return Q(**{f"{prefix}id_number": parts["id"]})
    if "id_tail" in parts:
        q |= Q(**{f"{REVERSED_ID}__startswith": parts["id_tail"][::-1]})
    if "name" in parts:
        q |= name_q(parts["name"], f"{prefix}name")
    return q


class AnyOf(models.Lookup):
    """`lhs = ANY(ARRAY(<subquery>))` on PostgreSQL (`lhs IN (<subquery>)` elsewhere): the
    subquery's rows are read first, then the column's index looked up for each, whatever the
    planner estimates their number to be (an IN is planned as a join)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


def _few_workers(parts: dict) -> bool:
    """The term matches few workers: an ID tail, or a name of two characters or more."""
    return "id_tail" in parts or len(parts.get("name", "").strip()) >= 2


def case_q(term: str) -> Q:
    """Cases matching `term` by their worker or their reference."""
    from relief.models import Worker

    parts = parse(term)
    if "id" not in parts and _few_workers(parts):
        workers = with_reversed_id(Worker.objects.all()) if "id_tail" in parts else Worker.objects
        q = Q(AnyOf(F("worker_id"), workers.filter(worker_q(term)).values("pk")))
    else:
        q = worker_q(term, prefix="worker__")
    if "reference" in parts and "id" not in parts:
        q |= Q(reference__startswith=parts["reference"])
    return q


def search_cases(queryset, term: str):
    return queryset.filter(case_q(term))


def search_workers(queryset, term: str):
    if needs_reversed_id(term):
        queryset = with_reversed_id(queryset)
    return queryset.filter(worker_q(term))
