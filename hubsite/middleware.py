"""Site-wide request guards."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hubsite.http import STORE_ERRORS, STORE_RETRY_AFTER, STORE_UNAVAILABLE, log_store_error


def reject_nul_bytes(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """A 400 for a NUL byte in the path or query: no name or search here can contain one, and
    PostgreSQL refuses NUL in text, so a lookup with it would fail as a server error."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info or any(
            "\x00" in key or "\x00" in value
            for key, values in request.GET.lists()
            for value in values
        ):
            raise BadRequest("NUL byte in the request address.")
        return get_response(request)

    return middleware


class StoreUnavailableMiddleware:
    """A page that needed the object store while it was down or failing answers 503 with what
    happened and when to try again, rather than a 500; the error is logged for the staff. (The
    API's views answer the same in the Hub's error shape: ``hubapi.auth.endpoint``.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, STORE_ERRORS):
            return None
        log_store_error(request, exception)
        context = {"message": STORE_UNAVAILABLE}
        response = render(request, "store_unavailable.html", context, status=503)
        response["Retry-After"] = STORE_RETRY_AFTER
        response["X-Error-Message"] = STORE_UNAVAILABLE  # what a page's script shows (htmx)
        return response
