"""Site-wide pieces of a request that every app's views use."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it: ``request.htmx`` says whether htmx
    sent it, and for which target."""

    htmx: HtmxDetails
