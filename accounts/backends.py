"""Django's ``ModelBackend``, with the logged-in user read by SQL the ORM compiled once
(``hubsite.queries``): every request of a logged-in user reads its user, and compiling the
lookup cost more than running it on the table's primary key."""

from __future__ import annotations

from django.contrib.auth import backends

from accounts.models import User
from hubsite.queries import STAND_IN_ID, Prepared

_USER = Prepared(lambda pk: User._default_manager.filter(pk=pk), pk=STAND_IN_ID)


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id: int) -> User | None:
        found = _USER.instances(_USER.rows(pk=user_id))
        if not found or not self.user_can_authenticate(found[0]):
            return None
        return found[0]
