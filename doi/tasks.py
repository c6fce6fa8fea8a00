"""Background work for DOIs: pushing each pending change to the registrar until it is done.

Runs through Django's tasks framework. With the ImmediateBackend (the default) the task runs in
the web request that queued it, after the commit; with ``django-tasks-db`` (``TASKS_BACKEND=
database`` and ``manage.py db_worker``) in a worker. Either way ``manage.py doi_sync`` from cron
picks up whatever is left: retries that are due, and DOIs whose worker died.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import connection
from django.tasks import task
from django.tasks.backends.immediate import ImmediateBackend

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


def push_all(ids: list[int]) -> None:
    """Queue a push of each DOI, in order. Where they run here and now (the immediate backend),
    they go side by side, each in a thread with its own database connection, so that the owner
    waits for one DataCite answer rather than one after another."""
    ids = list(dict.fromkeys(ids))
    inline = isinstance(sync_doi.get_backend(), ImmediateBackend)
    if len(ids) < 2 or not inline or not pushes_can_run_side_by_side():
        for pk in ids:
            sync_doi.enqueue(pk)
        return
    threads = [threading.Thread(target=_push_in_thread, args=(pk,)) for pk in ids[1:]]
    for thread in threads:
        thread.start()
    sync_doi.enqueue(ids[0])
    for thread in threads:
        thread.join()


def pushes_can_run_side_by_side() -> bool:
    """Whether pushes may run in threads of their own: their connections see only committed
    rows (not those of an open transaction, such as a test's), and on SQLite each push holds
    the database's one write lock, so they would only queue."""
    return connection.vendor != "sqlite" and not connection.in_atomic_block


def _push_in_thread(doi_id: int) -> None:
    try:
        sync_doi.enqueue(doi_id)
    finally:
        connection.close()
