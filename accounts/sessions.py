"""Django's database sessions (SESSION_ENGINE = "accounts.sessions"), each read with SQL the ORM
compiled once (``hubsite.queries``): every request of a logged-in user reads its session, and
compiling the lookup cost more than running it on the table's primary key."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db.models.functions import Now

from hubsite.queries import STAND_IN_TEXT, Prepared

# Unexpired by the database's clock, so that the query has no value but the key.
_SESSION = Prepared(
    lambda key: Session.objects.filter(session_key=key, expire_date__gt=Now()), key=STAND_IN_TEXT
)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Session | None:
        found = _SESSION.instances(_SESSION.rows(key=self.session_key))
        if not found:
            self._session_key = None
            return None
        return found[0]
