"""Site-wide request guards."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


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
