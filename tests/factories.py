from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Membership, Namespace, Organization, User
from doi.models import Doi
from repos.models import Repo, RepoType

PASSWORD = "correct horse battery staple"
_HASHED = make_password(PASSWORD)


class NamespaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Namespace
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"namespace{n}")
    kind = Namespace.Kind.USER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    full_name = factory.Faker("name")
    password = _HASHED
    namespace = factory.LazyAttribute(
        lambda u: Namespace.objects.create(name=u.username, kind=Namespace.Kind.USER)
    )


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    namespace = factory.SubFactory(NamespaceFactory, kind=Namespace.Kind.ORGANIZATION)
    display_name = factory.Faker("company")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.WRITE


class RepoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Repo

    namespace = factory.SubFactory(NamespaceFactory)
    name = factory.Sequence(lambda n: f"repo-{n}")
    type = RepoType.MODEL
    private = False


def commit_files(
    repo: Repo, author: User, files: dict[str, str | bytes], message="Update"
) -> object:
    """Commit text or bytes files to ``repo`` as ``author``; returns the new revision."""
    return repo.commit(
        author=author,
        message=message,
        add={p: c.encode() if isinstance(c, str) else c for p, c in files.items()},
    )


def mint_doi(repo: Repo, user: User, creators: list[dict] | None = None):
    """Mint a DOI for ``repo``'s current revision as ``user``, through the owner's own path."""
    return Doi.objects.mint(
        repo=repo,
        user=user,
        creators=creators or [{"type": "Personal", "name": "Alice Liddell"}],
        consent_text="I acknowledge …",
        consent_version="test",
    )
