from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import Namespace
from hubsite.forms import PlainLabels
from repos.models import Repo
from support.models import AlreadyOpen, SupportRequest

Action = SupportRequest.Action


class SupportRequestForm(PlainLabels, forms.Form):
    """A request for one action on one repository; the fields depend on the action."""

    new_namespace = forms.ModelChoiceField(
        queryset=Namespace.objects.none(),
        label="New owner",
        empty_label=None,
        help_text="You or an organization you administer.",
    )
    new_name = forms.CharField(label="New name", max_length=96)
    target_visibility = forms.ChoiceField(
        label="New visibility", choices=SupportRequest.Visibility.choices
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Why you need it. Staff read it before acting; it is not shown publicly.",
    )

    def __init__(self, *args, repo: Repo, user, action: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.repo, self.user, self.action = repo, user, action
        if action == Action.RENAME:
            namespaces = Namespace.objects.administered_by(user).order_by("name")
            self.fields["new_namespace"].queryset = namespaces
            self.fields["new_namespace"].initial = repo.namespace_id
            self.fields["new_name"].initial = repo.name
        else:
            del self.fields["new_namespace"], self.fields["new_name"]
        if action == Action.VISIBILITY:
            self.fields["target_visibility"].initial = "public" if repo.private else "private"
        else:
            del self.fields["target_visibility"]

    def save(self) -> SupportRequest | None:
        """File the request; None (with the reasons on the form) when it cannot be filed."""
        data = self.cleaned_data
        try:
            return SupportRequest.file(
                repo=self.repo,
                requester=self.user,
                action=self.action,
                reason=data["reason"],
                new_name=data.get("new_name", ""),
                new_namespace=data.get("new_namespace"),
                target_visibility=data.get("target_visibility", ""),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        except AlreadyOpen as exc:
            self.add_error(None, already_open_message(exc.existing, self.user))
        return None


def already_open_message(existing: SupportRequest, user) -> str:
    if existing.requester_id == user.pk:
        return format_html(
            'You already have an open request to {} — <a href="{}">see it here</a>.',
            existing.phrase,
            reverse("support:detail", args=[existing.pk]),
        )
    return format_html(
        "{} already asked for this (request #{}, {}); staff will handle it.",
        existing.requester.username,
        existing.pk,
        f"{existing.created_at:%Y-%m-%d}",
    )
