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
"""

import re

from django.db.models import Q
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


def case_q(term: str) -> Q:
    """Cases matching `term` by their worker or their reference."""
    parts = parse(term)
    q = worker_q(term, prefix="worker__")
    if "reference" in parts and "id" not in parts:
        q |= Q(reference__startswith=parts["reference"])
    return q


def search_cases(queryset, term: str):
    if needs_reversed_id(term):
        queryset = with_reversed_id(queryset, "worker__")
    return queryset.filter(case_q(term))


def search_workers(queryset, term: str):
    if needs_reversed_id(term):
        queryset = with_reversed_id(queryset)
    return queryset.filter(worker_q(term))
