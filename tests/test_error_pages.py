from __future__ import annotations

import pytest

from tests.factories import RepoFactory


@pytest.mark.smoke
def test_unknown_pages_get_the_sites_404_page(client, db):
    response = client.get("/no-such-user/no-such-repo")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Log in" in response.content


def test_forbidden_settings_get_the_sites_403_page(client, owner, stranger):
    repo = RepoFactory(namespace=owner.namespace)
    client.force_login(stranger)
    response = client.get(repo.url("settings"))
    assert response.status_code == 403
    assert "You can't do that here" in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/doi/10.5072/hub%000001",
        "/alice/model%00",
        "/ali%00ce",
        "/models?search=a%00b",
        "/datasets/alice/data%00/commits",
    ],
)
def test_a_nul_byte_in_the_address_is_a_bad_request_not_a_server_error(client, db, url):
    # PostgreSQL refuses NUL in text, so looking such a name up used to end in a 500.
    response = client.get(url)
    assert response.status_code == 400
