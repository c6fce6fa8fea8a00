from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.forms import (
    NAME_TAKEN,
    AccessTokenForm,
    AddMemberForm,
    JoinForm,
    OrganizationForm,
    OrganizationProfileForm,
    PasswordForm,
    ProfileForm,
    RoleForm,
)
from accounts.lockout import client_ip
from accounts.models import (
    AccessToken,
    LastAdmin,
    Membership,
    NamespaceTaken,
    Organization,
    SignupsPaused,
)
from hubsite.http import HtmxHttpRequest

require_form_methods = require_http_methods(["GET", "POST"])


def _get_organization_for_admin(request: HttpRequest, name: str) -> Organization:
    organization = get_object_or_404(
        Organization.objects.select_related("namespace"), namespace__name__iexact=name
    )
    if organization.role_of(request.user) != Membership.Role.ADMIN:
        raise PermissionDenied
    return organization


def _get_membership(organization: Organization, username: str) -> Membership:
    return get_object_or_404(
        organization.memberships.select_related("user"), user__username__iexact=username
    )


# Sign-up and personal settings ----------------------------------------------------------------


@require_form_methods
def join(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = JoinForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = form.create_user(ip_address=client_ip(request))
        except NamespaceTaken:
            form.add_error("username", NAME_TAKEN)
        except SignupsPaused as exc:
            form.add_error(None, exc.message)
            status = 429
        else:
            login(request, user, backend="accounts.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.get_full_name()}! Your account is ready.")
            return redirect("home")
    return render(request, "accounts/join.html", {"form": form}, status=status)


@login_required
@require_form_methods
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "section": "profile"})


@login_required
@require_form_methods
def password(request: HttpRequest) -> HttpResponse:
    form = PasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, "Your password is changed.")
        return redirect("accounts:password")
    return render(request, "accounts/password.html", {"form": form, "section": "password"})


def _tokens_response(request: HtmxHttpRequest, form: AccessTokenForm, **extra) -> HttpResponse:
    """The access tokens page, or only its tokens section for htmx."""
    context = {
        "form": form,
        "tokens": request.user.access_tokens.all(),
        "section": "tokens",
        "site_url": settings.SITE_URL,
        **extra,
    }
    template = "accounts/tokens.html#tokens" if request.htmx else "accounts/tokens.html"
    return render(request, template, context)


@login_required
@require_form_methods
def tokens(request: HtmxHttpRequest) -> HttpResponse:
    """List the user's access tokens; a POST creates one, whose secret this response shows once
    (never a redirect: the secret is not kept anywhere to show again)."""
    if request.method != "POST":
        return _tokens_response(request, AccessTokenForm())
    form = AccessTokenForm(request.POST)
    if not form.is_valid():
        return _tokens_response(request, form)
    token, secret = AccessToken.issue(
        user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
    )
    return _tokens_response(request, AccessTokenForm(), new_token=token, secret=secret)


@login_required
@require_POST
def token_revoke(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(request.user.access_tokens.active(), pk=pk)
    token.revoke()
    notice = f"Revoked {token.name} ({token.prefix}…): it no longer works."
    if request.htmx:
        return _tokens_response(request, AccessTokenForm(), notice=notice)
    messages.success(request, notice)
    return redirect("accounts:tokens")


# Organizations --------------------------------------------------------------------------------


@login_required
@require_form_methods
def organization_new(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = Organization.create(
                name=form.cleaned_data["name"],
                display_name=form.cleaned_data["display_name"],
                creator=request.user,
            )
        except NamespaceTaken:
            form.add_error("name", NAME_TAKEN)
        else:
            messages.success(request, f"Organization {organization.name} created.")
            return redirect(organization)
    return render(request, "accounts/organization_new.html", {"form": form})


def _settings_context(organization: Organization, **extra) -> dict:
    return {
        "organization": organization,
        "memberships": organization.memberships.select_related("user"),
        "roles": Membership.Role.choices,
        "add_form": AddMemberForm(organization=organization),
        **extra,
    }


@login_required
@require_form_methods
def organization_settings(request: HttpRequest, name: str) -> HttpResponse:
    organization = _get_organization_for_admin(request, name)
    form = OrganizationProfileForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Organization profile saved.")
        return redirect("accounts:organization-settings", organization.name)
    context = _settings_context(organization, form=form)
    return render(request, "accounts/organization_settings.html", context)


def _members_response(
    request: HtmxHttpRequest,
    organization: Organization,
    *,
    notice: str = "",
    error: str = "",
    add_form: AddMemberForm | None = None,
) -> HttpResponse:
    """After a member change: the members section for htmx, else the page (or a redirect)."""
    failed = bool(error) or (add_form is not None and bool(add_form.errors))
    if not failed and organization.role_of(request.user) != Membership.Role.ADMIN:
        # The admin removed or demoted themselves: these settings are no longer theirs.
        messages.success(request, notice)
        if request.htmx:
            return HttpResponseClientRedirect(organization.get_absolute_url())
        return redirect(organization)
    extra = {"add_form": add_form} if add_form is not None else {}
    if request.htmx:
        context = _settings_context(organization, notice=notice, error=error, **extra)
        return render(request, "accounts/organization_settings.html#members", context)
    if failed:
        form = OrganizationProfileForm(instance=organization)
        context = _settings_context(organization, form=form, error=error, **extra)
        return render(request, "accounts/organization_settings.html", context)
    messages.success(request, notice)
    return redirect("accounts:organization-settings", organization.name)


@login_required
@require_POST
def member_add(request: HtmxHttpRequest, name: str) -> HttpResponse:
    organization = _get_organization_for_admin(request, name)
    form = AddMemberForm(request.POST, organization=organization)
    if not form.is_valid():
        return _members_response(request, organization, add_form=form)
    user, role = form.cleaned_data["username"], form.cleaned_data["role"]
    organization.add_member(user, role)
    notice = f"Added {user.username} as {Membership.Role(role).label.lower()}."
    return _members_response(request, organization, notice=notice)


@login_required
@require_POST
def member_role(request: HtmxHttpRequest, name: str, username: str) -> HttpResponse:
    organization = _get_organization_for_admin(request, name)
    membership = _get_membership(organization, username)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _members_response(request, organization, error="Choose admin, write or read.")
    try:
        organization.set_role(membership, form.cleaned_data["role"])
    except LastAdmin:
        error = f"{membership.user.username} is the only admin. Make someone else admin first."
        return _members_response(request, organization, error=error)
    notice = f"{membership.user.username} is now {membership.get_role_display().lower()}."
    return _members_response(request, organization, notice=notice)


@login_required
@require_POST
def member_remove(request: HtmxHttpRequest, name: str, username: str) -> HttpResponse:
    organization = _get_organization_for_admin(request, name)
    membership = _get_membership(organization, username)
    try:
        organization.remove_member(membership)
    except LastAdmin:
        error = (
            f"{membership.user.username} is the only admin and cannot be removed. "
            "Make someone else admin first."
        )
        return _members_response(request, organization, error=error)
    notice = f"Removed {membership.user.username} from {organization.name}."
    return _members_response(request, organization, notice=notice)
