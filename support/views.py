from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from doi.models import Doi
from repos.models import Repo
from support.forms import SupportRequestForm, already_open_message
from support.models import SupportRequest, doi_effect

Action = SupportRequest.Action


def _administered_repo(request: HttpRequest) -> Repo:
    """The repository named by ``?repo=<id>``, if the user administers it; else 404."""
    try:
        pk = int(request.GET.get("repo", ""))
    except ValueError:
        raise Http404("No such repository.") from None
    repos = Repo.objects.administered_by(request.user).select_related("namespace")
    return get_object_or_404(repos, pk=pk)


def _own_request(request: HttpRequest, pk: int) -> SupportRequest:
    requests = SupportRequest.objects.of(request.user).select_related(
        "repo__namespace", "new_namespace", "handled_by"
    )
    return get_object_or_404(requests, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    repo = _administered_repo(request)
    action = request.GET.get("action", "")
    context = {
        "repo": repo,
        "action": action,
        "actions": Action.choices,
        "locked": repo.is_locked,
        "settings_url": repo.url("settings"),
        "dois": Doi.objects.live().filter(repo=repo).order_by("number"),
    }
    if action not in Action.values:
        context["action_error"] = "Choose what staff should do with the repository."
        return render(request, "support/new.html", context, status=400)
    existing = SupportRequest.objects.open().filter(repo=repo, action=action).first()
    form = SupportRequestForm(request.POST or None, repo=repo, user=request.user, action=action)
    if request.method == "POST" and existing is None and form.is_valid():
        support_request = form.save()
        if support_request is not None:
            messages.success(
                request,
                f"Request #{support_request.pk} sent. Staff will handle it and email you.",
            )
            return redirect(support_request)
    context |= {
        "form": form,
        "existing": already_open_message(existing, request.user) if existing else "",
        "doi_effect": doi_effect(action, "public" if repo.private else "private"),
        "action_label": Action(action).label,
    }
    return render(request, "support/new.html", context)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    requests = SupportRequest.objects.of(request.user).select_related(
        "repo__namespace", "new_namespace"
    )
    return render(request, "support/index.html", {"support_requests": requests})


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    support_request = _own_request(request, pk)
    # A requester keeps their own request (what they asked, its status, staff's answer), but
    # sees the repository as it is now (its name, DOIs and their events) only while they may
    # see the repository: an admin removed from the organization may not, once it is private.
    sees_repo = support_request.repo.can_view(request.user)
    context = {
        "support_request": support_request,
        "sees_repo": sees_repo,
        "dois": support_request.dois() if sees_repo else [],
        "history": support_request.history(with_dois=sees_repo),
    }
    return render(request, "support/detail.html", context)
