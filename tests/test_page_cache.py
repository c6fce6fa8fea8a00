"""hubsite.page_cache: a page rendered once, filled in with each request's own."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.template import engines
from django.test import RequestFactory
from django.utils.csp import LazyNonce

from hubsite import page_cache

pytestmark = pytest.mark.usefixtures("cache_backend")
TEMPLATE = engines["django"].from_string(
    "<script nonce='{{ csp_nonce }}'></script>{{ holes.age }}|{{ user.is_authenticated }}"
)


def request_of(user):
    request = RequestFactory().get("/page")
    request.user, request._csp_nonce = user, LazyNonce()
    return request


def test_each_request_gets_its_own_nonce_and_fill_from_one_render(owner):
    renders = []

    def render(context):
        renders.append(context)
        return HttpResponse(TEMPLATE.render(context))

    answers = []
    for user, age in ((owner, "<1 hour>"), (AnonymousUser(), "2 hours")):
        request = request_of(user)
        response = page_cache.page(request, "test-page", ["a"], render, {"age": lambda a=age: a})
        answers.append((response.text, str(request._csp_nonce)))
    assert len(renders) == 1
    # The page's own nonce (which the middleware then puts in its policy), and the fill,
    # escaped; the page was rendered for nobody in particular.
    (first, first_nonce), (second, second_nonce) = answers
    assert first == f"<script nonce='{first_nonce}'></script>&lt;1 hour&gt;|False"
    assert second == f"<script nonce='{second_nonce}'></script>2 hours|False"
    assert first_nonce != second_nonce


def test_text_beyond_latin_1_comes_back_whole_from_the_cache():
    """The cache keeps a page encoded; what it shows and what is filled in must survive it."""
    template = engines["django"].from_string("Zoë — 模型 {{ holes.age }}")
    renders = []

    def render(context):
        renders.append(context)
        return HttpResponse(template.render(context))

    bodies = [
        page_cache.page(
            request_of(AnonymousUser()), "test-page-text", ["b"], render, {"age": lambda: "2 小时"}
        ).content
        for _ in range(2)
    ]
    assert len(renders) == 1
    assert bodies == ["Zoë — 模型 2 小时".encode()] * 2
