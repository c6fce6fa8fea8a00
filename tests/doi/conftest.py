from __future__ import annotations

import pytest

from tests.datacite_server import datacite  # noqa: F401  (the fixture)
from tests.factories import RepoFactory, commit_files

CARD = """---
license: apache-2.0
tags:
  - text-classification
  - sentiment
---
# Sentiment model

![badge](https://example.org/badge.svg)

A small model that tells *happy* from **sad** sentences,
trained on [reviews](https://example.org).

More text here.
"""

CONSENT = {"consent_text": "I acknowledge that …", "consent_version": "2026-11"}


@pytest.fixture(autouse=True)
def _doi_settings(settings):
    settings.DOI_PREFIX = "10.5072"
    settings.DOI_SUFFIX_PATTERN = "hub/{number:04d}"
    settings.DOI_CONCEPT_DOIS = True
    settings.DOI_PUBLISHER_ROR = ""
    settings.DOI_REGISTRAR = "local"
    settings.SITE_URL = "https://hub.example.org"
    settings.SITE_NAME = "BOINC AI Hub"
    settings.DOI_INLINE_RETRIES = 0
    settings.DOI_INLINE_RETRY_WAIT = 0


@pytest.fixture
def repo(owner):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": CARD, "config.json": "{}"})
    return repo


@pytest.fixture
def alice():
    return {
        "type": "Personal",
        "name": "Alice Liddell",
        "given_name": "",
        "family_name": "",
        "orcid": "0000-0002-1825-0097",
        "affiliation": "Wonderland University",
    }


@pytest.fixture
def mint(owner, alice, django_capture_on_commit_callbacks):
    """Reserve a DOI for the repository's head as ``owner`` and run the queued pushes; keyword
    arguments are the rest of its record (description, related_works, funding)."""
    from doi.models import Doi

    def run(repo, user=None, creators=None, **record):
        with django_capture_on_commit_callbacks(execute=True):
            return Doi.objects.mint(
                repo=repo,
                user=user or owner,
                creators=creators or [alice],
                record=record,
                **CONSENT,
            )

    return run


@pytest.fixture
def reserve(owner, alice, django_capture_on_commit_callbacks):
    """Reserve a DOI for a private repository (a DataCite draft) as ``owner``, pushes run."""
    from doi.models import Doi

    def run(repo, user=None):
        with django_capture_on_commit_callbacks(execute=True):
            return Doi.objects.mint(
                repo=repo, user=user or owner, creators=[alice], draft=True, **CONSENT
            )

    return run


@pytest.fixture
def minted(repo, mint, alice, datacite):  # noqa: F811 (the fixture imported above)
    """A findable version DOI (and its concept) at the DataCite-like server."""
    from doi.models import Doi

    version = mint(repo, creators=[alice])
    version.refresh_from_db()
    assert version.state == Doi.State.FINDABLE
    return version


@pytest.fixture
def logged_in(client, owner):
    """The test client, logged in as the owner."""
    client.force_login(owner)
    return client
