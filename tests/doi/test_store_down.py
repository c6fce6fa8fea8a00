"""Generate DOI with the object store down: what the record takes from the README was worked out
when it was committed, so the form proposes it and the DOI is minted; a CITATION.cff that
cannot be read is a notice in the form, not an error page."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from doi.models import Doi
from repos.models import Revision
from tests.doi.test_citation_file import CFF
from tests.doi.test_owner_generate import form_data, url
from tests.doi.test_owner_related import values
from tests.factories import RepoFactory, commit_files

README = (
    "---\nlicense: mit\n---\n# Sentiment model\n\n"
    "It reads reviews, as [the paper](https://arxiv.org/abs/2106.09685) says.\n"
)


@pytest.fixture
def repo(owner, store):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": README, "CITATION.cff": CFF})
    return repo


def test_the_form_proposes_the_readme_and_says_the_citation_file_could_not_be_read(
    logged_in, repo, take_down
):
    take_down()
    response = logged_in.get(url(repo))

    assert response.status_code == 200
    html = response.content.decode()
    assert "It reads reviews, as the paper says." in html  # the description proposed
    assert values(html, r"related-\d+-identifier") == ["arXiv:2106.09685"]
    assert escape("CITATION.cff could not be read just now") in html
    assert "Fill them in, or reload this page in a few minutes." in html


def test_the_doi_is_minted_while_the_store_is_down(
    logged_in, repo, take_down, django_capture_on_commit_callbacks
):
    take_down()
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(url(repo), form_data({"name": "Alice Liddell"}))

    assert response.status_code == 302
    doi = Doi.objects.versions().get(repo=repo)
    assert doi.metadata["descriptions"] == [
        {"description": "It reads reviews, as the paper says.", "descriptionType": "Abstract"}
    ]
    assert doi.metadata["rightsList"][0]["rightsIdentifier"] == "mit"


def test_a_revision_committed_before_its_outline_was_kept_works_it_out_once(repo, take_down):
    Revision.objects.filter(pk=repo.head.pk).update(card_outline=None)
    revision = Revision.objects.get(pk=repo.head.pk)

    outline = revision.outline()  # read from the store, then kept

    assert outline == {
        "lead": "It reads reviews, as the paper says.",
        "links": ["https://arxiv.org/abs/2106.09685"],
    }
    take_down()
    assert Revision.objects.get(pk=repo.head.pk).outline() == outline
