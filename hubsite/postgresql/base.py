"""Django's PostgreSQL backend (ENGINE "hubsite.postgresql"), with two changes: its health
check of a reused connection (CONN_HEALTH_CHECKS) is made only when the connection has not
served a request for a while, and the planner does not use Memoize (see ``PLANNER``).

Django's check runs ``SELECT 1`` before the first query of every request: a round trip to the
server that cost a ``/doi/`` redirect (one query of its own) a third of its time. It is there
for a connection that broke while it sat unused — the server restarted, or something on the
way dropped idle connections — and those are connections that sat unused. One that served a
request without an error less than HEALTH_CHECK_AFTER_IDLE seconds ago is not checked again;
one that failed is checked at the end of that request (Django's own rule) and dropped if
broken.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

HEALTH_CHECK_AFTER_IDLE = 1.0  # seconds

# Set on every new connection. PostgreSQL's planner puts a Memoize node (a cache of a nested
# loop's inner lookups) in front of the owner join of a listing's page: it sizes that cache for
# the rows the listing would have without its LIMIT, 600,000 at a million repositories, and
# sets it up and tears it down on every run, for 30 lookups of which 2 repeat. The first page
# of /models then took the server 196 µs at a million repositories against 104 µs at a
# thousand; without Memoize, 128 µs against 95 µs (each run 2,000 times in the server, median
# of 7). No query of the hub joins enough repeated rows for Memoize to pay.
PLANNER = "SET enable_memoize = off"


class DatabaseWrapper(base.DatabaseWrapper):
    served_at = float("-inf")  # a connection not known to have served: checked

    def connect(self) -> None:
        super().connect()
        self.served_at = time.monotonic()

    def init_connection_state(self) -> None:
        super().init_connection_state()
        with self.connection.cursor() as cursor:
            cursor.execute(PLANNER)
        if not self.get_autocommit():
            self.connection.commit()

    def close_if_unusable_or_obsolete(self) -> None:
        # Called as each request starts and ends: a request that used the connection (its
        # check was done or skipped) without an error shows it working at its end.
        if self.connection is not None and self.health_check_done and not self.errors_occurred:
            self.served_at = time.monotonic()
        super().close_if_unusable_or_obsolete()

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and time.monotonic() - self.served_at < HEALTH_CHECK_AFTER_IDLE
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
