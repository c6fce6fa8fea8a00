from __future__ import annotations

from django import forms
from django.contrib.auth.forms import (
    AdminUserCreationForm,
    AuthenticationForm,
    BaseUserCreationForm,
    PasswordChangeForm,
    UsernameField,
)
from django.db import transaction

from accounts.models import AccessToken, Membership, Namespace, Organization, Signup, User
from accounts.validators import NAME_MAX_LENGTH, validate_namespace_name
from hubsite.forms import PlainLabels

NAME_TAKEN = "That name is taken."
EMAIL_TAKEN = "That email is already registered."


def _check_name_free(name: str) -> str:
    if Namespace.objects.is_taken(name):
        raise forms.ValidationError(NAME_TAKEN, code="taken")
    return name


class _NewUserMixin:
    """Usernames share one namespace with organizations; emails are unique in any case."""

    def clean_username(self) -> str:
        return _check_name_free(self.cleaned_data["username"])

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(EMAIL_TAKEN, code="taken")
        return email


class JoinForm(PlainLabels, _NewUserMixin, BaseUserCreationForm):
    password1, password2 = BaseUserCreationForm.create_password_fields(
        label1="Password", label2="Password (again)"
    )

    class Meta:
        model = User
        fields = ("username", "email", "full_name")
        field_classes = {"username": UsernameField}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields["password2"].help_text = ""

    def create_user(self, ip_address: str | None) -> User:
        """Create the user and claim the namespace; raises NamespaceTaken on a lost race and
        SignupsPaused when ``ip_address`` created too many accounts lately."""
        data = self.cleaned_data
        with transaction.atomic():
            Signup.check_allowed(ip_address)
            user = User.objects.create_user(
                data["username"], data["email"], data["password1"], full_name=data["full_name"]
            )
            Signup.record(ip_address)
        return user


class AdminJoinForm(_NewUserMixin, AdminUserCreationForm):
    """The admin's add-user form; the admin claims the namespace when it saves the user."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email", "full_name")
        field_classes = {"username": UsernameField}


class LoginForm(PlainLabels, AuthenticationForm):
    pass


class PasswordForm(PlainLabels, PasswordChangeForm):
    pass


class ProfileForm(PlainLabels, forms.ModelForm):
    class Meta:
        model = User
        fields = ("full_name", "email")
        labels = {"full_name": "Full name", "email": "Email"}
        help_texts = {
            "full_name": "Your name as you want it cited, e.g. “Jane Doe”. When you generate a "
            "DOI, this is the author name DataCite receives and publishes.",
        }

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        others = User.objects.exclude(pk=self.instance.pk)
        if others.filter(email__iexact=email).exists():
            raise forms.ValidationError(EMAIL_TAKEN, code="taken")
        return email


class OrganizationForm(PlainLabels, forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX_LENGTH,
        validators=[validate_namespace_name],
        help_text="Letters, digits, '-', '_' and '.'. Its repositories live under this name, "
        "which people and organizations share, so it must differ from every username.",
    )
    display_name = forms.CharField(
        label="Full name", max_length=200, required=False, help_text="E.g. “Wonderland Lab”."
    )

    def clean_name(self) -> str:
        return _check_name_free(self.cleaned_data["name"])


class OrganizationProfileForm(PlainLabels, forms.ModelForm):
    class Meta:
        model = Organization
        fields = ("display_name", "description")
        labels = {"display_name": "Full name", "description": "Description"}
        widgets = {"description": forms.Textarea(attrs={"rows": 4, "class": "prose"})}


class AddMemberForm(PlainLabels, forms.Form):
    username = forms.CharField(label="Username", max_length=NAME_MAX_LENGTH)
    role = forms.ChoiceField(label="Role", choices=Membership.Role, initial=Membership.Role.READ)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_username(self) -> User:
        username = self.cleaned_data["username"]
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise forms.ValidationError(f"There is no user named “{username}”.", code="unknown")
        if self.organization.memberships.filter(user=user).exists():
            raise forms.ValidationError(f"{user.username} is already a member.", code="member")
        return user


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Membership.Role)


class AccessTokenForm(PlainLabels, forms.ModelForm):
    class Meta:
        model = AccessToken
        fields = ("name", "scope")
        labels = {"name": "Name", "scope": "Scope"}
        help_texts = {
            "name": "What the token is for, e.g. “training server”.",
            "scope": "Read: download and list, private repositories included. Write: also "
            "create repositories, push commits and generate DOIs.",
        }
        widgets = {"scope": forms.RadioSelect}
