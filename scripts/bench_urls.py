"""The benchmark's URLs: the floor (a view that answers "ok" through the same middleware as every
page), then the product's. With it, the middleware that counts a request's database queries and
sends the count back in a header when the request asks for it. Nothing here is in the product."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

QUERY_HEADER = "X-Bench-Queries"


def count_queries(get_response):
    """With ``X-Bench-Queries: 1`` in the request, answer how many queries it made."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if QUERY_HEADER not in request.headers:
            return get_response(request)
        queries = 0

        def counter(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = get_response(request)
        response[QUERY_HEADER] = str(queries)
        return response

    return middleware


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/floor", floor),
    path("", include("hubsite.urls")),
]
