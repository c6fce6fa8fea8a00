"""Bearer-token authentication, for the API alone.

The API never looks at the session or at CSRF: a request is its token's user, or anonymous.
Site pages never look at the ``Authorization`` header (Django's session authentication knows
nothing of it), so a token opens the API and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from accounts.models import AccessToken, InvalidToken
from hubapi.errors import INVALID_CREDENTIALS, ApiError, Forbidden, Unauthorized
from hubsite.http import STORE_ERRORS, STORE_RETRY_AFTER, STORE_UNAVAILABLE, log_store_error


class ApiRequest(HttpRequest):
    """A request as ``endpoint`` leaves it: ``user`` is the token's (or anonymous), and
    ``access_token`` the token itself (None when none was sent)."""

    access_token: AccessToken | None


def _tokens_page(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("accounts:tokens"))


def authenticate(request: HttpRequest) -> AccessToken | None:
    """The token the request carries, or None without one; Unauthorized for a malformed,
    unknown or revoked one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "Send the access token as “Authorization: Bearer <token>”.",
            header=INVALID_CREDENTIALS,
        )
    try:
        return AccessToken.objects.authenticate(secret.strip())
    except InvalidToken as exc:
        raise Unauthorized(
            f"{exc.message} Create a token in Settings → Access tokens: {_tokens_page(request)}",
            header=INVALID_CREDENTIALS,
        ) from None


def require_token(request: ApiRequest, scope: str) -> AccessToken:
    """The request's token, when it has ``scope`` (read, or write); else 401 or 403."""
    token = request.access_token
    if token is None:
        raise Unauthorized(
            f"This needs an access token with {scope} scope, sent as “Authorization: Bearer "
            f"<token>”. Create one in Settings → Access tokens: {_tokens_page(request)}",
            header=INVALID_CREDENTIALS,
        )
    if scope == AccessToken.Scope.WRITE and not token.can_write:
        raise Forbidden(
            f"The access token {token.name} ({token.prefix}…) has read scope only; this needs a "
            f"write token. Create one in Settings → Access tokens: {_tokens_page(request)}"
        )
    return token


def endpoint(methods: Iterable[str] = ("GET",), *, scope: str | None = None) -> Callable:
    """An API view: the request authenticated by its Bearer token (``scope`` "read" or
    "write" requires one), no CSRF, and an ``ApiError`` raised anywhere in the view answered
    in the Hub's JSON error shape, as is an object store that failed (503). HEAD is allowed
    wherever GET is."""
    allowed = {m.upper() for m in methods}
    if "GET" in allowed:
        allowed.add("HEAD")

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: ApiRequest, *args, **kwargs) -> HttpResponse:
            # Whatever the session says, the API sees only the token.
            request.user = AnonymousUser()
            request.access_token = None
            try:
                if request.method not in allowed:
                    methods_here = ", ".join(sorted(allowed))
                    raise ApiError(
                        f"{request.method} is not supported here; use {methods_here}.",
                        status=405,
                    )
                request.access_token = authenticate(request)
                if request.access_token is not None:
                    request.user = request.access_token.user
                if scope is not None:
                    require_token(request, scope)
                return view(request, *args, **kwargs)
            except ApiError as exc:
                response = exc.response()
                if exc.status == 405:
                    response["Allow"] = ", ".join(sorted(allowed))
                return response
            except STORE_ERRORS as exc:
                log_store_error(request, exc)
                headers = {"Retry-After": STORE_RETRY_AFTER}
                return ApiError(STORE_UNAVAILABLE, status=503, headers=headers).response()

        return wrapper

    return decorate
