from __future__ import annotations

import pytest

from tests.factories import RepoFactory, commit_files, mint_doi

CARD = "---\nlicense: apache-2.0\ntags: [nlp]\n---\n# Bert\n\nA small model.\n"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://hub.example.org"
    settings.SITE_NAME = "BOINC AI Hub"
    settings.SUPPORT_EMAIL = "support@hub.example.org"
    settings.DOI_PREFIX = "10.5072"
    settings.DOI_SUFFIX_PATTERN = "hub/{number:04d}"
    settings.DOI_CONCEPT_DOIS = True
    settings.DOI_REGISTRAR = "local"
    settings.DOI_INLINE_RETRIES = 0
    settings.DOI_INLINE_RETRY_WAIT = 0


@pytest.fixture
def repo(owner):
    """alice/bert: a public model with a card."""
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(repo, owner, {"README.md": CARD, "config.json": "{}"})
    return repo


@pytest.fixture
def mint(owner, django_capture_on_commit_callbacks):
    """Give the repository's head a DOI as ``owner`` and run the queued registration."""

    def run(repo, user=None):
        with django_capture_on_commit_callbacks(execute=True):
            doi = mint_doi(repo, user or owner)
        return doi

    return run


@pytest.fixture
def locked(repo, mint):
    """alice/bert with a findable version DOI and its concept DOI: locked by DOI."""
    mint(repo)
    return repo


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what a block queues for after the commit (DataCite pushes, emails), as in a request."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
