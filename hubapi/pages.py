"""Pages of API lists, as the Hub sends them: the next page's address in a ``Link`` header,
which ``huggingface_hub`` follows."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, JsonResponse

from hubapi.errors import ApiError


def page_of(request: HttpRequest, items, per_page: int) -> Page:
    number = request.GET.get("p", "1")
    if not number.isdigit() or int(number) < 1:
        raise ApiError(f"p must be a page number (1, 2, …), not {number!r}.")
    paginator = Paginator(items, per_page, allow_empty_first_page=True)
    if int(number) > paginator.num_pages:
        raise ApiError(f"There are only {paginator.num_pages} pages.")
    return paginator.page(int(number))


def paged_response(request: HttpRequest, page: Page, rows: list) -> JsonResponse:
    response = JsonResponse(rows, safe=False)
    if page.has_next():
        query = request.GET.copy()
        query["p"] = str(page.next_page_number())
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        response["Link"] = f'<{next_url}>; rel="next"'
    return response
