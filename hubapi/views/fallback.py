from __future__ import annotations

from django.http import HttpResponse

from hubapi.auth import ApiRequest, endpoint
from hubapi.errors import NotFound


@endpoint(methods=("GET", "POST", "PUT", "PATCH", "DELETE"))
def unsupported(request: ApiRequest, rest: str) -> HttpResponse:
    """Any address of the Hub's API that this hub does not offer, said so that the client
    prints it (rather than a page of HTML)."""
    raise NotFound(f"{request.method} /api/{rest} is not supported by this hub.")
