"""Inserting many rows at once, for the imports' bulk path.

On PostgreSQL rows go in with COPY, their primary keys taken from the table's sequence first,
about five times faster than bulk_create's client-side quoting of 10,000-row arrays; triggers
and constraints apply to COPY exactly as to INSERT. Elsewhere (SQLite) it is bulk_create.
Callers give every value the row needs, auto_now fields included.
"""

from decimal import Decimal

from django.db import connection
from django.db.models import JSONField


def reserve_ids(model, count: int) -> list[int] | None:
    """`count` primary keys from `model`'s sequence, before its rows are written (PostgreSQL).

    Lets rows that point at these (audit entries at payouts) be written first: Django's
    foreign keys are DEFERRABLE INITIALLY DEFERRED. None elsewhere (SQLite has no sequence).
    """
    if connection.vendor != "postgresql":
        return None
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [r[0] for r in cursor.fetchall()]


def check_foreign_keys_now(*, except_to=()) -> None:
    """Run the deferred foreign-key checks now rather than at commit (PostgreSQL).

    A long import checks what it wrote before it takes the short-lived fund-account locks, so
    commit (inside those locks) has little left to check. Keys pointing at a table in
    `except_to` (rows still to be written) stay deferred.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # By name: SET CONSTRAINTS ALL IMMEDIATE would check the excepted keys too, and fail.
        cursor.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.conname) "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE c.contype = 'f' AND c.condeferrable "
            "AND NOT (c.confrelid::regclass::text = ANY(%s))",
            [[m._meta.db_table for m in except_to]],
        )
        names = [r[0] for r in cursor.fetchall()]
        if names:
            cursor.execute(f"SET CONSTRAINTS {', '.join(names)} IMMEDIATE")


def defer_foreign_keys() -> None:
    """Back to Django's default (checked at commit) for the rest of the transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def bulk_insert(
    model, rows: list[dict], *, want_ids: bool = True, ids: list[int] | None = None
) -> list[int]:
    """Insert `rows` ({attname: value}) into `model`'s table; return their ids in order.

    `ids` (from reserve_ids) gives the rows primary keys taken earlier.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        if ids is not None:
            rows = [{model._meta.pk.attname: i, **row} for i, row in zip(ids, rows, strict=True)]
        objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
        return [obj.pk for obj in objs]
    from psycopg.types.json import Jsonb

    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    defaults = {f.attname: f.get_default() for f in fields if f.attname not in rows[0]}
    json_fields = {f.attname for f in fields if isinstance(f, JSONField)}
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        if ids is None and want_ids:
            ids = reserve_ids(model, len(rows))
        if ids is not None:
            columns = [meta.pk.column, *columns]
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        # Django's exception classes (IntegrityError, ...) for what COPY raises, as for INSERT.
        with (
            connection.wrap_database_errors,
            raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for index, row in enumerate(rows):
                values = [_value(row, f.attname, defaults, json_fields, Jsonb) for f in fields]
                copy.write_row([ids[index], *values] if ids is not None else values)
    return ids or []


def _value(row, attname, defaults, json_fields, Jsonb):
    value = row[attname] if attname in row else defaults[attname]
    return Jsonb(value) if attname in json_fields else value


class SqliteStage:
    """Rows of one table staged in a TEMP table before the write lock, copied in under it.

    SQLite holds one write lock for the whole database from BEGIN (IMMEDIATE) to COMMIT. A
    connection's TEMP tables live in its own private database, so writing them takes no lock
    the payouts need: here every value goes through the field's get_db_prep_save (as
    bulk_create would) and into `temp.<stage>` before the write transaction. Under the lock
    each table is then one `INSERT … SELECT`, run inside SQLite without a Python value per
    column: 10,000 cases go in 3-8 times faster than by executemany (bench/RESULTS.md).

    Columns that depend on rows not written yet (`later`: keys to new workers and cases,
    references) are SQL expressions over `keys`, auxiliary staging columns holding each row's
    index among the rows they point to (or an existing key), and over the integers given to
    insert() (the first ids of those tables). Callers build every expression from integers
    and the staging column names only.
    """

    def __init__(
        self,
        model,
        rows: list[dict],
        *,
        later: dict[str, str] | None = None,
        keys: tuple[str, ...] = (),
    ):
        meta = model._meta
        self.model = model
        self.count = len(rows)
        self.later = later or {}
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        self.now_fields = [f for f in fields if f.attname not in self.later]
        self.later_columns = [meta.get_field(name).column for name in self.later]
        quote = connection.ops.quote_name
        self.stage = quote(f"stage_{meta.db_table}")
        self.table = quote(meta.db_table)
        self.pk = quote(meta.pk.column)
        self.keys = [quote(k) for k in keys]
        columns = [quote(f.column) for f in self.now_fields]
        if not rows:
            return
        defaults = {f.attname: f.get_default() for f in self.now_fields if f.attname not in rows[0]}
        values = (
            (
                index,
                *[
                    _stored(
                        f.get_db_prep_save(
                            row[f.attname] if f.attname in row else defaults[f.attname],
                            connection,
                        )
                    )
                    for f in self.now_fields
                ],
                *[row[k] for k in keys],
            )
            for index, row in enumerate(rows)
        )
        # Untyped columns keep each value as given; the real table's affinity applies when it
        # is copied in, exactly as for an INSERT of the same values.
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{self.stage}")
            cursor.execute(
                f"CREATE TEMP TABLE {self.stage} "
                f"(_idx INTEGER PRIMARY KEY, {', '.join([*columns, *self.keys])})"
            )
            cursor.executemany(
                f"INSERT INTO temp.{self.stage} VALUES "  # noqa: S608 (names from the model)
                f"({', '.join(['%s'] * (1 + len(columns) + len(self.keys)))})",
                values,
            )

    def __len__(self):
        return self.count

    def insert(self, **numbers: int) -> list[int]:
        """Copy the staged rows in with ids following the table's last; return them in order.

        Inside the write transaction no other connection writes, so the ids are the table's
        next ones: after the highest ever handed out (sqlite_sequence, AUTOINCREMENT) and the
        highest present. `numbers` fill the `later` expressions ({name} placeholders).
        """
        if not self.count:
            return []
        first = next_sqlite_id(self.model)
        quote = connection.ops.quote_name
        numbers = {name: int(value) for name, value in numbers.items()}
        expressions = [sql.format(**numbers) for sql in self.later.values()]
        names = [self.pk, *[quote(f.column) for f in self.now_fields]]
        names += [quote(c) for c in self.later_columns]
        selected = [f"{first} + _idx", *[quote(f.column) for f in self.now_fields], *expressions]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} ({', '.join(names)}) "  # noqa: S608
                f"SELECT {', '.join(selected)} FROM temp.{self.stage} ORDER BY _idx"
            )
        # Not dropped here: a DROP under the write lock cost 1-14 ms a table (30 ms of a
        # 10,000-row import's window); the caller drops its stages after the commit
        # (relief.services.ledger_write.discard).
        return list(range(first, first + self.count))

    def drop(self) -> None:
        if self.count:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS temp.{self.stage}")


def _stored(value):
    # What the sqlite3 adapter Django registers for Decimal (str) would do inside executemany.
    return str(value) if isinstance(value, Decimal) else value


def next_sqlite_id(model) -> int:
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    pk = connection.ops.quote_name(meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            # Names from the model, quoted.
            f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608
            f"COALESCE((SELECT MAX({pk}) FROM {table}), 0))",
            [meta.db_table],
        )
        return cursor.fetchone()[0] + 1
