"""Background work for DOIs: pushing each pending change to the registrar until it is done.

Runs through Django's tasks framework. With the ImmediateBackend (the default) the task runs in
the web request that queued it, after the commit; with ``django-tasks-db`` (``TASKS_BACKEND=
database`` and ``manage.py db_worker``) in a worker. Either way ``manage.py doi_sync`` from cron
picks up whatever is left: retries that are due, and DOIs whose worker died.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.tasks import task

from doi.models import Doi, Push


@task
def sync_doi(doi_id: int) -> str:
    """Push the DOI's pending action (publish, update or hide) to the registrar."""
    result = Doi.objects.push(doi_id)
    if result.outcome == Push.RETRY:
        result = _retry(doi_id, result)
    return result.outcome


def _retry(doi_id: int, result: Push) -> Push:
    backend = sync_doi.get_backend()
    if backend.supports_defer:
        when = Doi.objects.filter(pk=doi_id).values_list("next_attempt_at", flat=True).first()
        sync_doi.using(run_after=when).enqueue(doi_id)
        return result
    # Without deferral the task runs inside the caller, often a web request: try again a few
    # times with short waits, then leave it to ``doi_sync``. Never wait less than DataCite asks.
    wait = settings.DOI_INLINE_RETRY_WAIT
    for attempt in range(settings.DOI_INLINE_RETRIES):
        pause = wait * 2**attempt
        if result.retry_after is not None and result.retry_after > pause:
            break
        time.sleep(pause)
        result = Doi.objects.push(doi_id)
        if result.outcome != Push.RETRY:
            break
    return result


def pushes_can_run_side_by_side() -> bool:
    """Whether pushes may run in threads of their own: their connections see only committed
    rows (not those of an open transaction, such as a test's), and on SQLite each push holds
    the database's one write lock, so they would only queue."""
    return connection.vendor != "sqlite" and not connection.in_atomic_block
