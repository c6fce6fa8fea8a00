"""Whole pages in the cache (``hubsite.caching``'s keys), for everyone who may see them alike.

A page is rendered once per key with placeholders where it shows what differs from one request
to the next — who is logged in (base.html's user menu, and the CSRF header htmx sends for a
logged-in user), the messages, the CSRF token, the Content-Security-Policy nonce, and what the
view names (a "3 hours ago") — and every request fills them in::

    return page_cache.page(request, "repo-page", parts, render, fill={"age": lambda: …})

A placeholder is unguessable (made with ``SECRET_KEY``), so no content (a model card) can hold
one to have a token filled in. The nonce and the CSRF token are made only when the page shows
them, as when rendering: a page without inline scripts or styles sends its policy without a
nonce, one without a form sets no CSRF cookie, and each request gets its own of either.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache as memoize
from functools import lru_cache

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.context_processors import PermWrapper
from django.contrib.auth.models import AnonymousUser
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from hubsite.caching import key


def page(
    request: HttpRequest,
    name: str,
    parts: Iterable,
    render: Callable[[dict], HttpResponse],
    fill: dict[str, Callable[[], str]] | None = None,
) -> HttpResponse:
    """The page ``name`` for ``parts``, with this request's user menu, messages, CSRF token and
    CSP nonce, and ``fill[hole]()`` (text, escaped unless safe) where its template shows
    ``{{ holes.<hole> }}``.

    ``render(context)`` renders the page when it is not cached yet, adding ``context`` to its
    own: placeholders for all of these, and an anonymous ``user``, so that nothing of whoever
    asked first is kept. The parts must say everything else the page shows (the rule of
    ``hubsite.caching``), including what it shows by who asks (e.g. ``can_write``); base.html's
    site name and support address, the language and whether htmx asked are added here. Only
    a 200 is kept."""
    fill = fill or {}
    parts = (*parts, settings.SITE_NAME, settings.SUPPORT_EMAIL, get_language(), _htmx(request))
    cache_key = key(name, parts)
    stored = cache.get(cache_key)
    if stored is None:
        response = render(_placeholders([*fill, "user_nav", "htmx_csrf", "messages"]))
        # The text between the placeholders, encoded, with the placeholders' names in between:
        # each request then joins bytes, where encoding the whole page again would go character
        # by character through any page with a character beyond Latin-1 (a "—"), two thirds of
        # the DOI tag and Cite panel's cost on a repository page.
        pieces = _placeholders_pattern().split(response.text)
        pieces[::2] = [text.encode(response.charset) for text in pieces[::2]]
        stored = (response.status_code, list(response.items()), response.charset, pieces)
        if response.status_code == 200:
            cache.set(cache_key, stored, timeout=None)
    status, headers, charset, pieces = stored
    # Made only where the page shows them, as when rendering: each sets a header.
    token = memoize(lambda: get_token(request))

    def for_user(template: str) -> str:  # a logged-in user's holds a CSRF token of its own
        html = _for_user(request, template)
        return html.replace(_placeholder("csrf_token"), token()) if "@@hole:" in html else html

    values = {
        "user_nav": lambda: for_user("includes/_user_nav.html"),
        "htmx_csrf": lambda: for_user("includes/_htmx_csrf.html"),
        "messages": lambda: _messages(request),
        "csrf_token": token,
        "csp_nonce": lambda: str(get_nonce(request)),
    }
    values |= {hole: (lambda f=f: conditional_escape(f())) for hole, f in fill.items()}
    filled = {hole: values[hole]().encode(charset) for hole in set(pieces[1::2])}
    holes, texts = pieces[1::2], pieces[2::2]
    body = pieces[0] + b"".join(filled[h] + text for h, text in zip(holes, texts, strict=True))
    response = HttpResponse(body, status=status)
    for header, value in headers:
        response[header] = value
    return response


def age(moment: datetime) -> SafeString:
    """How long ago ``moment`` was ("3 hours ago"), to fill in."""
    return ages([moment])[0]


def ages(moments: Iterable[datetime]) -> list[SafeString]:
    """How long ago each of ``moments`` was, each worked out once a second for each language:
    a listing fills in thirty of them on every request."""
    second, language = int(time.time()), get_language()
    return [_age(moment, second, language) for moment in moments]


@lru_cache(maxsize=4096)
def _age(moment: datetime, second: int, language: str) -> SafeString:
    return conditional_escape(naturaltime(moment))


@memoize
def _secret() -> str:
    return salted_hmac("hubsite.page_cache", "placeholder", algorithm="sha256").hexdigest()[:24]


@memoize
def _placeholders_pattern() -> re.Pattern:
    return re.compile(f"@@hole:([a-z0-9_]+):{_secret()}@@")


def _placeholder(hole: str) -> SafeString:
    return mark_safe(f"@@hole:{hole}:{_secret()}@@")  # noqa: S308 (letters, digits, @ and :)


def _placeholders(holes: list[str]) -> dict:
    anonymous = AnonymousUser()
    return {
        "holes": {hole: _placeholder(hole) for hole in holes},
        "csrf_token": _placeholder("csrf_token"),
        "csp_nonce": _placeholder("csp_nonce"),
        "user": anonymous,
        "perms": PermWrapper(anonymous),
        "messages": [],
    }


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# What _for_user rendered, in this process: a template and what it shows of a user make the
# same HTML for as long as the process runs, so none of it is asked of the cache on every
# request. Emptied when full.
_RENDERED_FOR_USER: dict[tuple, SafeString] = {}
_RENDERED_FOR_USER_MAX = 4096


def _for_user(request: HttpRequest, template: str) -> SafeString:
    """A piece of base.html that shows who is logged in, once per user as they stand."""
    user = request.user
    parts = (template, user.pk, user.get_username(), user.is_staff)
    html = _RENDERED_FOR_USER.get(parts)
    if html is None:
        context = {"user": user, "csrf_token": _placeholder("csrf_token")}
        html = mark_safe(render_to_string(template, context))  # noqa: S308 (escaped there)
        if len(_RENDERED_FOR_USER) >= _RENDERED_FOR_USER_MAX:
            _RENDERED_FOR_USER.clear()
        _RENDERED_FOR_USER[parts] = html
    return html


def _messages(request: HttpRequest) -> SafeString:
    storage = messages.get_messages(request)
    if not storage:  # reads them without marking them shown
        return mark_safe("")
    return mark_safe(render_to_string("includes/_messages.html", {"messages": storage}))  # noqa: S308
