"""Django's SQLite backend, with a finer wait for the write lock at BEGIN IMMEDIATE.

SQLite's own busy handler (sqlite3_busy_timeout) sleeps in steps that grow to 100 ms once a
wait has passed about 0.23 s. A payout queued behind a ledger import's write (a lock held for
about 0.4 s) therefore woke up to 100 ms after the lock was free, which pushed its wait past
issue 12's 0.5 s target in two runs out of five (bench/bench_import_payouts.py, SQLite).

Here a transaction's BEGIN IMMEDIATE, the one place our write transactions wait for the lock
(config/env.py sets the mode), polls instead: it tries at once, then every 2 ms at first and
never less often than every 10 ms, until the connection's timeout. Every other statement
keeps SQLite's busy handler. Nothing else changes: vendor, features and SQL are Django's.
"""

import sqlite3
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

FIRST_SLEEP = 0.002
LONGEST_SLEEP = 0.010
BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        if self.transaction_mode is None:
            return super()._start_transaction_under_autocommit()
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        # The pragmas go to the raw connection: they are not queries of the page (query
        # counts stay as they were); BEGIN goes through Django's cursor as before.
        self.connection.execute("PRAGMA busy_timeout = 0")
        try:
            self._begin_polling(f"BEGIN {self.transaction_mode}", timeout)
        finally:
            self.connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")

    def _begin_polling(self, begin: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        sleep = FIRST_SLEEP
        while True:
            try:
                self.cursor().execute(begin)
                return
            except OperationalError as exc:
                # Only "busy" (another connection holds the write lock) is worth another try.
                code = getattr(exc.__cause__, "sqlite_errorcode", None)
                if code not in BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(sleep)
            sleep = min(sleep * 1.5, LONGEST_SLEEP)
