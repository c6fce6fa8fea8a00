from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from accounts.validators import NAME_MAX_LENGTH, validate_namespace_name
from hubsite.quotas import full_until, try_again


class NamespaceTaken(Exception):
    """The name is already used by a user or an organization."""


class LastAdmin(Exception):
    """The change would leave an organization without an admin."""

    def __init__(self, organization: str) -> None:
        super().__init__(organization)
        self.message = (
            f"{organization} would be left without an admin: make another member admin first, "
            "or delete the organization."
        )


class NamespaceQuerySet(models.QuerySet["Namespace"]):
    def with_name(self, name: str) -> NamespaceQuerySet:
        """The namespace called ``name`` in any case, found through the index of the
        case-insensitive unique constraint (``iexact`` would scan every namespace: PostgreSQL
        compares UPPER(), SQLite uses LIKE). Names are ASCII, where Python's lower() and the
        databases' agree."""
        return self.alias(name_lower=Lower("name")).filter(name_lower=name.lower())

    def named(self, name: str) -> Namespace:
        return self.with_name(name).get()

    def is_taken(self, name: str) -> bool:
        return self.with_name(name).exists()

    def administered_by(self, user) -> NamespaceQuerySet:
        """Namespaces where ``user`` may create, move and administer repositories."""
        return self.filter(
            models.Q(user=user)
            | models.Q(
                organization__memberships__user=user,
                organization__memberships__role=Membership.Role.ADMIN,
            )
        ).distinct()

    def writable_by(self, user) -> NamespaceQuerySet:
        """Namespaces where ``user`` may create repositories."""
        return self.filter(
            models.Q(user=user)
            | models.Q(
                organization__memberships__user=user,
                organization__memberships__role__in=WRITER_ROLES,
            )
        ).distinct()


class Namespace(models.Model):
    """The one namespace shared by usernames and organization names: repositories live in it."""

    class Kind(models.TextChoices):
        USER = "user", "User"
        ORGANIZATION = "organization", "Organization"

    name = models.CharField(max_length=NAME_MAX_LENGTH, validators=[validate_namespace_name])
    kind = models.CharField(max_length=16, choices=Kind)

    objects = NamespaceQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="namespace_name_ci_unique")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def claim(cls, name: str, kind: str) -> Namespace:
        """Create the namespace, or raise NamespaceTaken if the name is in use in any case."""
        # The case-insensitive unique constraint decides races between simultaneous sign-ups.
        try:
            with transaction.atomic():
                return cls.objects.create(name=name, kind=kind)
        except IntegrityError as exc:
            raise NamespaceTaken(name) from exc

    def get_absolute_url(self) -> str:
        return reverse("namespace", args=[self.name])

    @property
    def has_owner(self) -> bool:
        """Its user or organization exists. Deleting either frees the name in the same
        transaction, so only rows older than that rule can lack one."""
        related = "user" if self.kind == self.Kind.USER else "organization"
        try:
            getattr(self, related)
        except models.ObjectDoesNotExist:
            return False
        return True

    @property
    def display_name(self) -> str:
        if self.kind == self.Kind.USER:
            return self.user.full_name or self.name
        return self.organization.display_name or self.name


class HubUserManager(UserManager):
    def get_by_natural_key(self, username: str) -> User:
        # Names are unique in any case (the namespace guarantees it): "Alice" logs in as alice.
        return self.get(username__iexact=username)

    def _create_user(self, username, email, password, **extra_fields):  # type: ignore[override]
        with transaction.atomic():
            namespace = Namespace.claim(username, Namespace.Kind.USER)
            return super()._create_user(
                username, email, password, namespace=namespace, **extra_fields
            )


class User(AbstractUser):
    """A person. Their username is their namespace; their full name goes to DataCite as author."""

    username = models.CharField(
        "username",
        max_length=NAME_MAX_LENGTH,
        unique=True,
        validators=[validate_namespace_name],
        help_text="Letters, digits, '-', '_' and '.'. Your repositories live under this name.",
        error_messages={"unique": "That name is taken."},
    )
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    full_name = models.CharField(
        "full name",
        max_length=200,
        blank=True,
        help_text="As you want it in citations, e.g. “Jane Doe”. Sent to DataCite when you "
        "generate a DOI.",
    )
    email = models.EmailField(
        "email", unique=True, error_messages={"unique": "That email is already registered."}
    )
    namespace = models.OneToOneField(Namespace, on_delete=models.PROTECT, related_name="user")

    objects = HubUserManager()

    REQUIRED_FIELDS = ["email"]

    def __str__(self) -> str:
        return self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.username

    def get_absolute_url(self) -> str:
        return reverse("namespace", args=[self.username])


class Organization(models.Model):
    namespace = models.OneToOneField(
        Namespace, on_delete=models.PROTECT, related_name="organization"
    )
    display_name = models.CharField("full name", max_length=200, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organizations")

    class Meta:
        ordering = ["namespace__name"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.namespace.name

    def get_absolute_url(self) -> str:
        return reverse("namespace", args=[self.name])

    @classmethod
    def create(cls, *, name: str, display_name: str, creator: User) -> Organization:
        """Create an organization whose first admin is ``creator``."""
        with transaction.atomic():
            namespace = Namespace.claim(name, Namespace.Kind.ORGANIZATION)
            org = cls.objects.create(namespace=namespace, display_name=display_name)
            Membership.objects.create(organization=org, user=creator, role=Membership.Role.ADMIN)
        return org

    def add_member(self, user: User, role: str) -> Membership:
        return Membership.objects.create(organization=self, user=user, role=role)

    def set_role(self, membership: Membership, role: str) -> None:
        """Change a member's role; raise LastAdmin rather than demote the only admin."""
        with transaction.atomic():
            if role != Membership.Role.ADMIN:
                self._ensure_other_admin(membership)
            membership.role = role
            membership.save(update_fields=["role"])

    def remove_member(self, membership: Membership) -> None:
        """Remove a member; raise LastAdmin rather than remove the only admin."""
        with transaction.atomic():
            self._ensure_other_admin(membership)
            membership.delete()

    def _ensure_other_admin(self, membership: Membership) -> None:
        # Locking the admin rows serialises two admins demoting each other at the same time.
        admin_ids = set(
            self.memberships.select_for_update()
            .filter(role=Membership.Role.ADMIN)
            .order_by()
            .values_list("pk", flat=True)
        )
        if admin_ids == {membership.pk}:
            raise LastAdmin(self.name)

    def ensure_has_admin(self) -> None:
        if not self.memberships.filter(role=Membership.Role.ADMIN).exists():
            raise LastAdmin(self.name)

    def role_of(self, user) -> str | None:
        if not user.is_authenticated:
            return None
        membership = self.memberships.filter(user=user).first()
        return membership.role if membership else None


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        WRITE = "write", "Write"
        READ = "read", "Read"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role, default=Role.READ)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique")
        ]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    def save(self, *args, **kwargs) -> None:
        """Refuse (LastAdmin) to demote an organization's last admin, by any path."""
        with transaction.atomic():
            demoted = (
                self.pk is not None
                and self.role != self.Role.ADMIN
                and Membership.objects.filter(pk=self.pk, role=self.Role.ADMIN).exists()
            )
            super().save(*args, **kwargs)
            if demoted:
                self.organization.ensure_has_admin()


# Deletions run in one transaction, so raising here undoes the whole delete. They cover the
# admin's bulk deletes and cascades too, which never call Model.delete().


@receiver(post_delete, sender=Membership)
def _keep_an_admin(sender, instance: Membership, origin=None, **kwargs) -> None:
    """An organization keeps an admin, unless it is being deleted itself."""
    deleting_organizations = isinstance(origin, Organization) or (
        isinstance(origin, models.QuerySet) and origin.model is Organization
    )
    if instance.role != Membership.Role.ADMIN or deleting_organizations:
        return
    organization = Organization.objects.filter(pk=instance.organization_id).first()
    if organization is not None:
        organization.ensure_has_admin()


@receiver(post_delete, sender=User)
@receiver(post_delete, sender=Organization)
def _free_the_namespace(sender, instance: User | Organization, **kwargs) -> None:
    """A user's or organization's name goes with them; ProtectedError (and nothing deleted)
    while repositories or support requests still use it."""
    Namespace.objects.filter(pk=instance.namespace_id).delete()


WRITER_ROLES = (Membership.Role.ADMIN, Membership.Role.WRITE)


class SignupsPaused(Exception):
    """Too many accounts were created from one address lately; the message says until when."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Signup(models.Model):
    """The address an account was created from, kept only as long as the sign-up throttle
    (SIGNUPS_PER_IP_PER_HOUR) looks back."""

    WINDOW = timedelta(hours=1)

    ip_address = models.GenericIPAddressField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.ip_address} at {self.created_at:%Y-%m-%d %H:%M}"

    @classmethod
    def check_allowed(cls, ip_address: str | None) -> None:
        """SignupsPaused when the address created its hourly allowance of accounts already."""
        if ip_address is None:
            return
        limit = settings.SIGNUPS_PER_IP_PER_HOUR
        mine = cls.objects.filter(ip_address=ip_address)
        until = full_until(mine, "created_at", limit=limit, window=cls.WINDOW)
        if until is not None:
            raise SignupsPaused(
                f"{limit} account{pluralize(limit)} {pluralize(limit, 'was,were')} created from "
                f"your network in the last hour, the most allowed. You can create another "
                f"{try_again(until)}."
            )

    @classmethod
    def record(cls, ip_address: str | None) -> None:
        """Note a sign-up, and forget those the throttle no longer looks at."""
        if ip_address is None:
            return
        now = timezone.now()
        cls.objects.filter(created_at__lte=now - cls.WINDOW).delete()
        cls.objects.create(ip_address=ip_address, created_at=now)


class InvalidToken(Exception):
    """An access token that is unknown or revoked; the message says which, and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AccessTokenQuerySet(models.QuerySet["AccessToken"]):
    def active(self) -> AccessTokenQuerySet:
        return self.filter(revoked_at__isnull=True)

    def revoke(self) -> int:
        """Revoke the active tokens among these; returns how many were."""
        return self.active().update(revoked_at=timezone.now())

    def authenticate(self, secret: str) -> AccessToken:
        """The active token whose secret this is, its last-used time noted; InvalidToken if
        none is (a revoked token says so)."""
        token = self.select_related("user").filter(digest=AccessToken.digest_of(secret)).first()
        if token is None or not token.user.is_active:
            raise InvalidToken("This access token is not known here.")
        if token.revoked_at is not None:
            raise InvalidToken(
                f"This access token ({token.prefix}…) was revoked on "
                f"{token.revoked_at:%Y-%m-%d at %H:%M} UTC."
            )
        token.note_use()
        return token


class AccessToken(models.Model):
    """A secret that lets code act as its user through the API, with read or write scope.

    Only the secret's SHA-256 is stored (the secret has 256 random bits, so a fast hash is
    enough); its first characters stay readable so that people can tell their tokens apart.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"

    PREFIX = "hub_"
    SHOWN = len(PREFIX) + 6  # characters of the secret kept readable
    # The last-used time is noted at most this often: not a database write per request.
    USE_RESOLUTION = timedelta(minutes=1)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField("name", max_length=100)
    scope = models.CharField("scope", max_length=8, choices=Scope, default=Scope.READ)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField("starts with", max_length=16, editable=False)
    created_at = models.DateTimeField("created", default=timezone.now, editable=False)
    last_used_at = models.DateTimeField("last used", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("revoked", null=True, blank=True, editable=False)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str, scope: str) -> tuple[AccessToken, str]:
        """A new token and its secret, which is shown once and never stored."""
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            scope=scope,
            digest=cls.digest_of(secret),
            prefix=secret[: cls.SHOWN],
        )
        return token, secret

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.is_active and self.scope == self.Scope.WRITE

    def revoke(self) -> None:
        AccessToken.objects.filter(pk=self.pk).revoke()
        self.refresh_from_db(fields=["revoked_at"])

    def note_use(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= self.USE_RESOLUTION:
            self.last_used_at = now
            AccessToken.objects.filter(pk=self.pk).update(last_used_at=now)
