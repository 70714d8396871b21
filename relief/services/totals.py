"""Keeping relief.models.totals equal to the ledger, in the writer's transaction.

Every writer of money rows collects its changes per key in Python (payout_changes for payouts,
one by one or an import's thousands; reversal_changes for a reversal; Changes.income for
income) and writes them with one upsert statement per table and chunk of keys (INSERT ... ON
CONFLICT DO UPDATE SET n = n + excluded.n, on PostgreSQL and SQLite alike), keys in sorted
order, so two writers touching the same keys queue on the row locks instead of losing an
increment or deadlocking.

Lock order, the same for every writer (issue 12): cases; the workers' rows; the totals rows
that only their own workers and grassroots unions share (Changes.write_own); the fund accounts;
the totals rows of towns and the district, which every payout of a town shares
(Changes.write_shared). A payout therefore writes most of its totals before it takes its fund
account, and a ledger import of 10,000 rows holds the accounts and its towns' rows only for its
payouts' COPY and a few hundred shared keys, not for its 20,000 other totals rows: payouts from
the same account wait for that short end only.

PersonCount (distinct workers per unit, breakdown and year; relief.models.totals) is a function
of each worker's MonthlyPerson rows: write_own() locks the affected workers' rows (PostgreSQL:
SELECT ... FOR NO KEY UPDATE in id order; a row lock costs no shared memory, so an import can
lock its 10,000 workers, and a payout waits only for a writer of the same worker), reads their
MonthlyPerson rows, works out what each worker's rows count before and after, and adds the
difference. rebuild() locks the worker table against them all before its table locks.

recompute() derives the same rows from the ledger alone: the backfill migration writes them,
`manage.py check_totals` compares them with the stored ones.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import OuterRef, Subquery

from relief.models.totals import NO_CATEGORY, PersonCount

TOTAL_FIELDS = (
    "payouts",
    "paid_cents",
    "largest_cents",
    "reversals",
    "reversed_cents",
    "incomes",
    "income_cents",
    "donors",
)
LARGEST = TOTAL_FIELDS.index("largest_cents")
# Keys per upsert statement: 13 parameters a row, far below SQLite's 32,766.
CHUNK = 1000


def cents(amount) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


@dataclass
class Changes:
    """What some money rows add to the totals, per key, before it is written."""

    # (union_id, category, source, year, month) -> [TOTAL_FIELDS...]
    totals: dict = field(default_factory=lambda: defaultdict(lambda: [0] * len(TOTAL_FIELDS)))
    # (worker_id, union_id, town_id, category, source, year, month) -> payouts
    persons: dict = field(default_factory=lambda: defaultdict(int))
    # PersonCount (union_id, kind, value, year, previous) -> persons: filled by recompute() and
    # stored() to be compared; write() derives its own from `persons` and the stored rows.
    counts: dict = field(default_factory=dict)
    # False: write() leaves PersonCount alone (a migration from before the table existed).
    count_persons: bool = True
    # Towns the changes touch: their rows and their districts' are the shared ones (write_shared).
    towns: set = field(default_factory=set)
    # (union filter, union id, category, source, paid_on): MonthlyTotal rows whose largest payout
    # is read again from the ledger once everything is written (a reversal's month).
    recheck_largest: list = field(default_factory=list)
    # True: the caller has locked every worker already (rebuild's table lock).
    workers_locked: bool = False
    # What write_own() left for write_shared(): (totals, person counts).
    _shared: tuple | None = field(default=None, repr=False)

    def payout(
        self, *, worker_id, union_id, town_id, category, source, paid_on, amount, largest=True
    ):
        """A payout that reached the worker: on its grassroots union and on its town.

        `largest` false: a payout known to be reversed, which is no candidate for the largest.
        """
        c = cents(amount)
        self.towns.add(town_id)
        for union in (union_id, town_id):
            row = self.totals[(union, category, source, paid_on.year, paid_on.month)]
            row[0] += 1
            row[1] += c
            if largest:
                row[LARGEST] = max(row[LARGEST], c)
        self.persons[
            (worker_id, union_id, town_id, category, source, paid_on.year, paid_on.month)
        ] += 1

    def reversal(self, *, worker_id, union_id, town_id, category, source, paid_on, amount):
        """`amount` (positive) of the payout paid on `paid_on` came back: out of that month."""
        c = cents(amount)
        self.towns.add(town_id)
        for union in (union_id, town_id):
            row = self.totals[(union, category, source, paid_on.year, paid_on.month)]
            row[0] -= 1
            row[1] -= c
            row[3] += 1
            row[4] += c
        self.persons[
            (worker_id, union_id, town_id, category, source, paid_on.year, paid_on.month)
        ] -= 1

    def income(self, *, town_id, source, received_on, amount, collection_union_id=None, donors=0):
        """Income on the town's account; a ten-yuan collection also on its grassroots union."""
        c = cents(amount)
        self.towns.add(town_id)
        for union in (town_id, collection_union_id):
            if union is None:
                continue
            row = self.totals[(union, NO_CATEGORY, source, received_on.year, received_on.month)]
            row[5] += 1
            row[6] += c
            row[7] += donors

    def write(self) -> None:
        """Everything at once: for writers that hold no fund account lock."""
        self.write_own()
        self.write_shared()

    def write_own(self) -> None:
        """Before any fund account lock: the workers' rows locked, their MonthlyPerson rows,
        and the totals and people counts of their grassroots unions."""
        counts, districts = (
            _person_count_changes(self.persons, lock=not self.workers_locked)
            if self.count_persons
            else ({}, {})
        )
        shared_units = self.towns | {districts.get(t) for t in self.towns} - {None}
        own_totals, shared_totals = _split(self.totals, shared_units)
        own_counts, shared_counts = _split(counts, shared_units)
        _upsert_persons(sorted(self.persons.items()))
        _upsert_totals(sorted(own_totals.items()))
        _upsert_person_counts(sorted(own_counts.items()))
        self._shared = (shared_totals, shared_counts)

    def write_shared(self) -> None:
        """After the fund accounts' locks: the towns' and the district's rows."""
        if self._shared is None:
            raise RuntimeError("Changes.write_shared() before write_own()")
        shared_totals, shared_counts = self._shared
        self._shared = None
        _upsert_totals(sorted(shared_totals.items()))
        _upsert_person_counts(sorted(shared_counts.items()))
        for union_filter, union_id, category, source, paid_on in self.recheck_largest:
            _recheck_largest(union_filter, union_id, category, source, paid_on)

    def stage_sqlite(self) -> "SqliteTotalsStage":
        """SQLite: these changes into TEMP tables now, written later by one upsert per table
        (a ledger import stages them before the write lock, see SqliteTotalsStage)."""
        return SqliteTotalsStage(self)


def _split(rows: dict, shared_units: set) -> tuple[dict, dict]:
    """`rows` (keyed by unit id first) as (own units' rows, shared units' rows)."""
    own, shared = {}, {}
    for key, value in rows.items():
        (shared if key[0] in shared_units else own)[key] = value
    return own, shared


def _greatest() -> str:
    return "GREATEST" if connection.vendor == "postgresql" else "MAX"


TOTAL_KEY = ("union_id", "category", "source", "year", "month")
PERSON_NAMES = ("worker_id", "union_id", "town_id", "category", "source", "year", "month")
PERSON_KEY = ("worker_id", "union_id", "category", "source", "year", "month")
PERSON_COUNT_KEY = ("union_id", "kind", "value", "year", "previous")


def _quoted(names) -> str:
    return ", ".join(connection.ops.quote_name(c) for c in names)


def _totals_columns() -> str:
    return _quoted(TOTAL_KEY + TOTAL_FIELDS)


def _totals_key() -> str:
    return _quoted(TOTAL_KEY)


def _totals_updates(table: str) -> str:
    q = connection.ops.quote_name
    return ", ".join(
        f"{q(c)} = {_greatest()}({table}.{q(c)}, excluded.{q(c)})"
        if c == "largest_cents"
        else f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}"
        for c in TOTAL_FIELDS
    )


def _persons_columns() -> str:
    return _quoted((*PERSON_NAMES, "payouts"))


def _persons_key() -> str:
    return _quoted(PERSON_KEY)


def _unnest(columns: tuple[str, ...], rows: list[tuple]) -> tuple[str, list]:
    """PostgreSQL: `rows` as one array parameter per column, read back in order by unnest.

    An upsert of thousands of keys as VALUES lists has tens of thousands of placeholders,
    which psycopg parses in Python on every statement (7.7 of the 11 s a 10,000-row import
    spent on its totals); as arrays it is one short statement with a parameter per column.
    """
    text = {"source", "kind", "value"}
    casts = ", ".join("%s::text[]" if c in text else "%s::bigint[]" for c in columns)
    names = ", ".join(f"c{i}" for i in range(len(columns)))
    # Only placeholders and generated names: no value is formatted into the statement.
    select = f"SELECT {names} FROM unnest({casts}) WITH ORDINALITY AS u({names}, n) ORDER BY n"  # noqa: S608
    return select, [list(column) for column in zip(*rows, strict=True)]


def _upsert_totals(items) -> None:
    from relief.models import MonthlyTotal

    table = connection.ops.quote_name(MonthlyTotal._meta.db_table)
    width = len(TOTAL_KEY) + len(TOTAL_FIELDS)
    if connection.vendor == "postgresql" and items:
        select, params = _unnest(TOTAL_KEY + TOTAL_FIELDS, [(*k, *row) for k, row in items])
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({_totals_columns()}) {select} "
                f"ON CONFLICT ({_totals_key()}) DO UPDATE SET {_totals_updates(table)}",
                params,
            )
        return
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
        params = [v for k, row in chunk for v in (*k, *row)]
        with connection.cursor() as cursor:
            cursor.execute(
                # Table and column names from the model, quoted; values as parameters.
                f"INSERT INTO {table} ({_totals_columns()}) VALUES {values} "  # noqa: S608
                f"ON CONFLICT ({_totals_key()}) DO UPDATE SET {_totals_updates(table)}",
                params,
            )


def _upsert_persons(items) -> None:
    from relief.models import MonthlyPerson

    _add_counts(MonthlyPerson._meta.db_table, PERSON_NAMES, PERSON_KEY, "payouts", items)


def _add_counts(table_name: str, names: tuple, key: tuple, count: str, items) -> None:
    """Upsert `items` ((*names) -> n): a row's `count` column grows by n on a key conflict.
    PostgreSQL: one unnest() statement; SQLite: VALUES lists of CHUNK rows."""
    q = connection.ops.quote_name
    table = q(table_name)
    columns = _quoted((*names, count))
    tail = (
        f"ON CONFLICT ({_quoted(key)}) "
        f"DO UPDATE SET {q(count)} = {table}.{q(count)} + excluded.{q(count)}"
    )
    if connection.vendor == "postgresql" and items:
        select, params = _unnest((*names, count), [(*k, n) for k, n in items])
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) {select} {tail}", params)
        return
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        values = ", ".join(["(" + ", ".join(["%s"] * (len(names) + 1)) + ")"] * len(chunk))
        params = [v for k, n in chunk for v in (*k, n)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} {tail}",  # noqa: S608
                params,
            )


class SqliteTotalsStage:
    """Changes staged in TEMP tables, written under the write lock by one INSERT … SELECT …
    ON CONFLICT per table (relief.services.bulk.SqliteStage explains why TEMP tables).

    A worker not written yet (a ledger import's new worker) is keyed by -(its index among the
    new workers + 1) in `persons`; write(first_new_worker=…) turns that into its id. Such a
    worker has no MonthlyPerson rows yet, so what they add to PersonCount is known now and
    staged too; a known worker's part depends on their rows as they are under the lock, so
    write() works it out there (a query over those workers' rows only).
    """

    def __init__(self, changes: Changes):
        self.totals_count = len(changes.totals)
        self.persons_count = len(changes.persons)
        self.count_persons = changes.count_persons
        new = {k: n for k, n in changes.persons.items() if k[0] < 0}
        self.known = {k: n for k, n in changes.persons.items() if k[0] >= 0}
        counts = {}
        if self.count_persons and new:
            counts = person_counts(new, districts_of({k[2] for k in new}))
        self.counts_count = len(counts)
        self.drop()
        with connection.cursor() as cursor:
            for table, columns, rows in (
                (
                    "stage_monthly_totals",
                    (*TOTAL_KEY, *TOTAL_FIELDS),
                    [(*k, *row) for k, row in sorted(changes.totals.items())],
                ),
                (
                    "stage_monthly_persons",
                    (*PERSON_NAMES, "payouts"),
                    [(*k, n) for k, n in changes.persons.items()],
                ),
                (
                    "stage_person_counts",
                    (*PERSON_COUNT_KEY, "persons"),
                    [(*k, n) for k, n in counts.items() if n],
                ),
            ):
                cursor.execute(f"CREATE TEMP TABLE {table} ({_quoted(columns)})")
                cursor.executemany(
                    f"INSERT INTO temp.{table} VALUES "  # noqa: S608 (placeholders only)
                    f"({', '.join(['%s'] * len(columns))})",
                    rows,
                )

    def write(self, first_new_worker: int = 0) -> None:
        from relief.models import MonthlyPerson, MonthlyTotal

        q = connection.ops.quote_name
        first = int(first_new_worker)
        totals = q(MonthlyTotal._meta.db_table)
        persons = q(MonthlyPerson._meta.db_table)
        counts = q(PersonCount._meta.db_table)
        # Read before the persons upsert, as Changes.write() does.
        known_counts = _person_count_changes(self.known)[0] if self.count_persons else {}
        worker = f"CASE WHEN worker_id < 0 THEN {first} - 1 - worker_id ELSE worker_id END"
        person_columns = [worker, *(q(c) for c in PERSON_NAMES[1:]), q("payouts")]
        with connection.cursor() as cursor:
            if self.totals_count:
                # "WHERE true": SQLite's documented way to keep ON CONFLICT from being read as
                # a join's ON after INSERT … SELECT.
                cursor.execute(
                    f"INSERT INTO {totals} ({_totals_columns()}) "  # noqa: S608 (model names)
                    "SELECT * FROM temp.stage_monthly_totals WHERE true "
                    f"ON CONFLICT ({_totals_key()}) DO UPDATE SET {_totals_updates(totals)}"
                )
            if self.persons_count:
                cursor.execute(
                    f"INSERT INTO {persons} ({_persons_columns()}) "  # noqa: S608 (model names)
                    f"SELECT {', '.join(person_columns)} FROM temp.stage_monthly_persons "
                    "WHERE true "
                    f"ON CONFLICT ({_persons_key()}) "
                    f'DO UPDATE SET "payouts" = {persons}."payouts" + excluded."payouts"'
                )
            if self.counts_count:
                cursor.execute(
                    f"INSERT INTO {counts} ({_quoted((*PERSON_COUNT_KEY, 'persons'))}) "  # noqa: S608
                    "SELECT * FROM temp.stage_person_counts WHERE true "
                    f"ON CONFLICT ({_quoted(PERSON_COUNT_KEY)}) "
                    f'DO UPDATE SET "persons" = {counts}."persons" + excluded."persons"'
                )
        _upsert_person_counts(sorted(known_counts.items()))
        # Dropped by the caller after the commit, not under the lock (see SqliteStage.insert).

    def drop(self) -> None:
        with connection.cursor() as cursor:
            for table in ("stage_monthly_totals", "stage_monthly_persons", "stage_person_counts"):
                cursor.execute(f"DROP TABLE IF EXISTS temp.{table}")


def _lock_workers(worker_ids) -> None:
    """PostgreSQL: the workers' rows locked in id order (FOR NO KEY UPDATE: a foreign key's
    check on them still passes, an edit of the worker or another totals writer waits)."""
    if connection.vendor != "postgresql" or not worker_ids:
        return  # SQLite: the writer already holds the database's one write lock
    from relief.models import Worker

    table = connection.ops.quote_name(Worker._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT id FROM {table} WHERE id = ANY(%s::bigint[]) "  # noqa: S608
            "ORDER BY id FOR NO KEY UPDATE) AS locked",
            [sorted(worker_ids)],
        )


def _lock_every_worker(apps) -> None:
    """PostgreSQL: no worker row can be locked until the commit (rebuild)."""
    Worker = apps.get_model("relief", "Worker")
    with connection.cursor() as cursor:
        cursor.execute(
            f"LOCK TABLE {connection.ops.quote_name(Worker._meta.db_table)} IN EXCLUSIVE MODE"
        )


def districts_of(town_ids, apps=None) -> dict:
    """town id -> its district's id (the town's parent)."""
    if apps is None:
        from django.apps import apps
    Union = apps.get_model("unions", "Union")
    ids = sorted({t for t in town_ids if t is not None})
    found = {}
    for start in range(0, len(ids), CHUNK):
        found.update(
            Union.objects.filter(pk__in=ids[start : start + CHUNK]).values_list("pk", "parent_id")
        )
    return found


def person_counts(persons: dict, districts: dict) -> Counter:
    """PersonCount rows (key -> persons) of MonthlyPerson rows (`persons`, key -> payouts).

    A worker counts once per unit (union, town, district), breakdown and year they were paid
    in, under the previous year they were paid in the same unit and breakdown; and once per
    unit and month.
    """
    # worker -> (union, town) -> {(category, source, year, month)} with a payout
    workers: dict = defaultdict(lambda: defaultdict(set))
    for (worker, union, town, category, source, year, month), payouts in persons.items():
        if payouts > 0:
            workers[worker][(union, town)].add((category, source, year, month))
    counts = Counter()
    for groups in workers.values():
        if len(groups) == 1:  # the usual worker: one union, the same rows for its three units
            (((union, town), entries),) = groups.items()
            counts.update(
                (unit, *key)
                for key in _worker_keys(entries)
                for unit in {union, town, districts.get(town)} - {None}
            )
            continue
        per_unit = defaultdict(set)
        for (union, town), entries in groups.items():
            for unit in {union, town, districts.get(town)} - {None}:
                per_unit[unit] |= entries
        for unit, entries in per_unit.items():
            counts.update((unit, *key) for key in _worker_keys(entries))
    return counts


def _worker_keys(entries) -> list[tuple]:
    """(kind, value, year, previous) of one worker's (category, source, year, month) in a unit."""
    years: dict = defaultdict(set)
    months = set()
    for category, source, year, month in entries:
        years[(PersonCount.ALL, "")].add(year)
        years[(PersonCount.CATEGORY, str(category))].add(year)
        years[(PersonCount.SOURCE, source)].add(year)
        months.add((year, month))
    keys = [(PersonCount.MONTH, str(month), year, 0) for year, month in months]
    for (kind, value), found in years.items():
        previous = 0
        for year in sorted(found):
            keys.append((kind, value, year, previous))
            previous = year
    return keys


def _person_count_changes(changes: dict, *, lock: bool = True) -> tuple[dict, dict]:
    """What the person changes (MonthlyPerson key -> payouts added) add to PersonCount, and the
    districts of the towns involved (town id -> district id). Locks the workers' rows first
    (`lock` false: the caller holds them all)."""
    from relief.models import MonthlyPerson

    workers = sorted({k[0] for k, n in changes.items() if n})
    if not workers:
        return {}, {}
    if lock:
        _lock_workers(workers)
    before = {}
    for start in range(0, len(workers), CHUNK):
        before.update(
            (row[:7], row[7])
            for row in MonthlyPerson.objects.filter(
                worker_id__in=workers[start : start + CHUNK]
            ).values_list(
                "worker_id", "union_id", "town_id", "category", "source", "year", "month", "payouts"
            )
        )
    after = dict(before)
    for key, n in changes.items():
        if n:
            after[key] = after.get(key, 0) + n
    districts = districts_of({k[2] for k in after})
    delta = Counter(person_counts(after, districts))
    delta.subtract(person_counts(before, districts))
    return {k: n for k, n in delta.items() if n}, districts


def _upsert_person_counts(items) -> None:
    key = PERSON_COUNT_KEY
    _add_counts(PersonCount._meta.db_table, key, key, "persons", items)


def primary_category_of(categories) -> int:
    """The first of a case's categories by the categories' order (then name); 0 for none."""
    first = min(categories, key=lambda c: (c.order, c.name), default=None)
    return first.pk if first is not None else NO_CATEGORY


def primary_categories(application_ids) -> dict[int, int]:
    """application id -> its first category's id (relief.figures counts a case under it)."""
    from relief.models import Application

    through = Application.categories.through
    ids = list(set(application_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        rows = (
            through.objects.filter(application_id__in=ids[start : start + CHUNK])
            .order_by("application_id", "hardshipcategory__order", "hardshipcategory__name")
            .values_list("application_id", "hardshipcategory_id")
        )
        for application_id, category_id in rows:
            found.setdefault(application_id, category_id)
    return {a: found.get(a, NO_CATEGORY) for a in ids}


def payout_changes(payouts) -> Changes:
    """What payouts (Disbursement, reverses unset, saved or not yet), each on a case of a
    grassroots union, add to the totals; the caller writes them (write_own before its fund
    account lock, write_shared after)."""
    from relief.models import Application

    payouts = list(payouts)
    changes = Changes()
    if not payouts:
        return changes
    cases = {
        a["pk"]: a
        for a in Application.objects.filter(pk__in={p.application_id for p in payouts}).values(
            "pk", "worker_id", "union_id", "union__parent_id"
        )
    }
    categories = primary_categories(cases)
    for p in payouts:
        case = cases[p.application_id]
        changes.payout(
            worker_id=case["worker_id"],
            union_id=case["union_id"],
            town_id=case["union__parent_id"],
            category=categories[p.application_id],
            source=p.fund_source,
            paid_on=p.paid_on,
            amount=p.amount,
        )
    return changes


def reversal_changes(original) -> Changes:
    """`original` is being reversed: out of its month. The months' largest payouts are read
    again from the ledger by write_shared(), after the reversal row is saved (a payout
    committed meanwhile is seen: both rows are locked by then)."""
    from relief.models import Application

    case = Application.objects.values("worker_id", "union_id", "union__parent_id").get(
        pk=original.application_id
    )
    category = primary_categories([original.application_id])[original.application_id]
    changes = Changes()
    changes.reversal(
        worker_id=case["worker_id"],
        union_id=case["union_id"],
        town_id=case["union__parent_id"],
        category=category,
        source=original.fund_source,
        paid_on=original.paid_on,
        amount=original.amount,
    )
    # The largest payout cannot be taken back by subtraction.
    changes.recheck_largest = [
        (union_field, union_id, category, original.fund_source, original.paid_on)
        for union_field, union_id in (
            ("application__union_id", case["union_id"]),
            ("application__union__parent_id", case["union__parent_id"]),
        )
    ]
    return changes


def _recheck_largest(union_field: str, union_id: int, category: int, source: str, paid_on):
    from relief.models import MonthlyTotal

    largest = _largest_received({union_field: union_id}, category, source, paid_on)
    MonthlyTotal.objects.filter(
        union_id=union_id,
        category=category,
        source=source,
        year=paid_on.year,
        month=paid_on.month,
    ).update(largest_cents=largest)


def _largest_received(union_filter: dict, category: int, source: str, day: dt.date) -> int:
    from relief.models import Disbursement

    first = day.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    rows = (
        Disbursement.objects.received()
        .filter(**union_filter, fund_source=source, paid_on__gte=first, paid_on__lt=after)
        .values_list("application_id", "amount")
    )
    rows = list(rows)
    categories = primary_categories([a for a, _amount in rows])
    return max((cents(amount) for a, amount in rows if categories[a] == category), default=0)


def income_changes(*, town, source, received_on, amount, collection=None) -> Changes:
    """An income entry on the town's account (a ten-yuan collection: also on its union)."""
    changes = Changes()
    changes.income(
        town_id=town.pk,
        collection_union_id=collection.union_id if collection is not None else None,
        source=source,
        received_on=received_on,
        amount=amount,
        donors=(collection.donor_count or 0) if collection is not None else 0,
    )
    return changes


def recompute(apps=None) -> Changes:
    """The totals as the ledger gives them, whatever is stored. `apps`: a migration's."""
    if apps is None:
        from django.apps import apps
    Disbursement = apps.get_model("relief", "Disbursement")
    FundIncome = apps.get_model("relief", "FundIncome")
    HardshipCategory = apps.get_model("relief", "HardshipCategory")
    first_category = Subquery(
        HardshipCategory.objects.filter(applications=OuterRef("application_id"))
        .order_by("order", "name")
        .values("pk")[:1]
    )
    changes = Changes()
    payouts = (
        Disbursement.objects.filter(reverses__isnull=True)
        .annotate(category=first_category)
        .values_list(
            "application__worker_id",
            "application__union_id",
            "application__union__parent_id",
            "category",
            "fund_source",
            "paid_on",
            "amount",
            "reversal__id",
        )
    )
    for worker, union, town, category, source, paid_on, amount, reversal in payouts.iterator(
        chunk_size=5000
    ):
        fields = {
            "worker_id": worker,
            "union_id": union,
            "town_id": town,
            "category": category or NO_CATEGORY,
            "source": source,
            "paid_on": paid_on,
            "amount": amount,
        }
        changes.payout(**fields, largest=reversal is None)
        if reversal is not None:
            changes.reversal(**fields)
    incomes = FundIncome.objects.values_list(
        "account__town_id",
        "account__source",
        "received_on",
        "amount",
        "collection__union_id",
        "collection__donor_count",
    )
    for town, source, received_on, amount, union, donors in incomes.iterator(chunk_size=5000):
        changes.income(
            town_id=town,
            collection_union_id=union,
            source=source,
            received_on=received_on,
            amount=amount,
            donors=donors or 0,
        )
    changes.counts = _nonzero(
        person_counts(changes.persons, districts_of({k[2] for k in changes.persons}, apps))
    )
    return changes


def _nonzero(counts) -> dict:
    return {k: n for k, n in counts.items() if n}


def stored(apps=None) -> Changes:
    """The totals as they are stored, in the same shape as recompute()."""
    if apps is None:
        from django.apps import apps
    MonthlyTotal = apps.get_model("relief", "MonthlyTotal")
    MonthlyPerson = apps.get_model("relief", "MonthlyPerson")
    found = Changes()
    for row in MonthlyTotal.objects.values_list(
        "union_id", "category", "source", "year", "month", *TOTAL_FIELDS
    ).iterator(chunk_size=5000):
        found.totals[row[:5]] = list(row[5:])
    for row in MonthlyPerson.objects.values_list(
        "worker_id", "union_id", "town_id", "category", "source", "year", "month", "payouts"
    ).iterator(chunk_size=5000):
        found.persons[row[:7]] = row[7]
    if _has_model(apps, "PersonCount"):
        rows = apps.get_model("relief", "PersonCount").objects.values_list(
            "union_id", "kind", "value", "year", "previous", "persons"
        )
        found.counts = _nonzero({row[:5]: row[5] for row in rows.iterator(chunk_size=5000)})
    return found


def _has_model(apps, name: str) -> bool:
    try:
        apps.get_model("relief", name)
    except LookupError:
        return False
    return True


def differences(expected: Changes, found: Changes) -> list[str]:
    """Keys whose stored values differ from the ledger's; zero rows equal missing ones."""
    out = []
    for kind, want, have, empty in (
        ("total", expected.totals, found.totals, [0] * len(TOTAL_FIELDS)),
        ("person", expected.persons, found.persons, 0),
        ("person count", expected.counts, found.counts, 0),
    ):
        for key in sorted(set(want) | set(have), key=str):
            w, h = want.get(key, empty), have.get(key, empty)
            if w != h:
                out.append(f"{kind} {key}: ledger {w}, stored {h}")
    return out


def rebuild(apps=None) -> None:
    """Replace the stored totals with the ledger's (migration backfill, check_totals --repair)."""
    if apps is None:
        from django.apps import apps
    models = ["MonthlyTotal", "MonthlyPerson"]
    if _has_model(apps, "PersonCount"):
        models.append("PersonCount")
    if connection.vendor == "postgresql":
        # Writers wait at their upsert until the rebuild commits; the ledger is read after the
        # lock, so a payout committed before it is counted by the rebuild, one committed after
        # by its own upsert, never both. (SQLite has one writer at a time anyway.) The workers'
        # rows first, as every writer locks them before its totals rows.
        if "PersonCount" in models:
            _lock_every_worker(apps)
        q = connection.ops.quote_name
        tables = ", ".join(q(apps.get_model("relief", m)._meta.db_table) for m in models)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
    expected = recompute(apps)
    for model in reversed(models):
        apps.get_model("relief", model).objects.all().delete()
    expected.count_persons = "PersonCount" in models
    expected.workers_locked = True  # PostgreSQL: the table lock above; SQLite: one writer
    expected.write()
