"""Site-wide pieces of a request that every app's views use."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

logger = logging.getLogger(__name__)

# What boto3 raises when the object store cannot be reached (refused, timed out: BotoCoreError)
# or answers with an error (ClientError). A request that meets one answers 503 with
# STORE_UNAVAILABLE (``hubsite.middleware.StoreUnavailableMiddleware``, the API's
# ``hubapi.auth.endpoint``); a form that met one shows it and keeps what was typed.
STORE_ERRORS = (BotoCoreError, ClientError)
STORE_UNAVAILABLE = (
    "The hub's file store could not be reached or failed, so this could not be done and "
    "nothing was changed. Try again in a few minutes; the error has been recorded for the staff."
)
STORE_RETRY_AFTER = "120"  # seconds


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it: ``request.htmx`` says whether htmx
    sent it, and for which target."""

    htmx: HtmxDetails


def log_store_error(request: HttpRequest, error: Exception) -> None:
    """Record a failure of the object store for the staff (the user is told by the answer)."""
    logger.error(
        "The object store failed during %s %s", request.method, request.path, exc_info=error
    )
