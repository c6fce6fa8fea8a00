"""The admin is the staff's desk: it carries the hub's name, and its front page lists what is
waiting for staff, oldest first, each with its age and a link to where it is handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from doi.models import Doi, Event
from hubsite import redis_cache
from repos.models import Repo, RepoLock
from support.models import SupportRequest

# Items listed per kind; the heading gives the full count and links to all of them.
SHOWN = 10
# A registration DataCite has not confirmed after this long needs someone to look.
UNCONFIRMED_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Item:
    label: str
    since: datetime
    url: str
    detail: str = ""


@dataclass(frozen=True)
class Pile:
    """One kind of thing waiting for staff."""

    title: str
    explanation: str
    count: int
    items: list[Item]
    all_url: str = ""


class HubAdminSite(admin.AdminSite):
    index_template = "admin/desk.html"

    @property
    def site_header(self) -> str:  # type: ignore[override]
        return f"{settings.SITE_NAME} staff"

    @property
    def site_title(self) -> str:  # type: ignore[override]
        return f"{settings.SITE_NAME} admin"

    index_title = "Staff desk"

    def index(self, request: HttpRequest, extra_context=None):
        piles = desk(request.user)
        context = {
            "desk": piles,
            "desk_total": sum(p.count for p in piles),
            "cache_outage": redis_cache.outage(),
        }
        return super().index(request, {**context, **(extra_context or {})})


def desk(user) -> list[Pile]:
    """What is waiting, for the kinds ``user`` may see. A fixed number of queries."""
    piles: list[Pile] = []
    if user.has_perm("support.view_supportrequest"):
        piles += _support_requests()
    if user.has_perm("doi.view_doi"):
        piles += [_failed_dois(), _unconfirmed_dois(), _differing_dois()]
    if user.has_perm("repos.view_repo"):
        piles.append(_locked_without_dois())
    return piles


def _change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _support_requests() -> list[Pile]:
    waiting = SupportRequest.objects.open().select_related(
        "repo__namespace", "new_namespace", "requester"
    )
    counts = dict(waiting.values_list("action").annotate(n=Count("pk")).order_by())
    changelist = reverse("admin:support_supportrequest_changelist")
    piles = []
    for action in SupportRequest.Action:
        requests = waiting.filter(action=action).order_by("created_at", "pk")[:SHOWN]
        piles.append(
            Pile(
                title=f"Support requests: {action.label.lower()}",
                explanation="Open requests an owner filed; approve or reject each.",
                count=counts.get(action.value, 0),
                items=[
                    Item(
                        f"#{r.pk} {r.summary}",
                        r.created_at,
                        _change_url(r),
                        f"by {r.requester.username}",
                    )
                    for r in requests
                ],
                all_url=f"{changelist}?status__exact=open&action__exact={action.value}",
            )
        )
    return piles


def _dois_pile(title: str, explanation: str, dois: QuerySet[Doi], all_url: str) -> Pile:
    shown = dois.select_related("repo__namespace").order_by("since", "number")[:SHOWN]
    return Pile(
        title=title,
        explanation=explanation,
        count=dois.count(),
        items=[
            Item(d.doi, d.since, _change_url(d), f"{d.repo.full_name}: {_doi_detail(d)}")
            for d in shown
        ],
        all_url=all_url,
    )


def _doi_detail(doi: Doi) -> str:
    if doi.problem:
        return doi.problem
    if doi.remote_differences:
        return f"DataCite holds different {doi.remote_differences}"
    return doi.state_label


def _failed_dois() -> Pile:
    failed_at = (
        Event.objects.filter(doi=OuterRef("pk"), kind=Event.Kind.FAILED)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    dois = Doi.objects.live().filter(error_is_permanent=True)
    return _dois_pile(
        "DOIs whose registration or update failed for good",
        "The hub stopped trying: fix the cause, then use Retry registration or Re-send metadata.",
        dois.annotate(since=Coalesce(Subquery(failed_at), "created_at")),
        reverse("admin:doi_doi_changelist") + "?error_is_permanent__exact=1",
    )


def _unconfirmed_dois() -> Pile:
    dois = Doi.objects.pending().filter(created_at__lte=timezone.now() - UNCONFIRMED_AFTER)
    return _dois_pile(
        "DOIs DataCite has not confirmed after an hour",
        "Still retrying: check that DataCite is reachable and doi_sync runs from cron.",
        dois.annotate(since=F("created_at")),
        reverse("admin:doi_doi_changelist") + "?state=pending",
    )


def _differing_dois() -> Pile:
    return _dois_pile(
        "DOIs whose metadata at DataCite differs from the hub's",
        "Found by doi_sync --compare: check the DOI, then Re-send metadata to put the hub's back.",
        Doi.objects.differing().annotate(since=F("differs_since")),
        reverse("admin:doi_doi_changelist") + "?state=differs",
    )


def _locked_without_dois() -> Pile:
    discarded = Doi.objects.discarded().filter(repo=OuterRef("pk"))
    repos = (
        Repo.objects.filter(Exists(RepoLock.objects.filter(repo=OuterRef("pk"))))
        .filter(Exists(discarded))
        .exclude(Exists(Doi.objects.live().filter(repo=OuterRef("pk"))))
        .annotate(since=Subquery(discarded.order_by("-discarded_at").values("discarded_at")[:1]))
    )
    shown = repos.select_related("namespace").order_by("since", "pk")[:SHOWN]
    return Pile(
        title="Repositories still locked though all their DOIs were discarded",
        explanation=(
            "No DOI holds them, yet their owners still cannot rename, move or delete them: "
            "the lock left behind is named under “locked by”."
        ),
        count=repos.count(),
        items=[Item(r.full_name, r.since, _change_url(r), "locked") for r in shown],
    )
