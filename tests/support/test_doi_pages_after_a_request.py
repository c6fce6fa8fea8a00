"""What /doi/<doi> answers once staff carried out a request: it always answers."""

from __future__ import annotations

import json
import re

import pytest

from repos.models import lock_override
from support.models import SupportRequest


def _carry_out(repo, owner, staff, run_on_commit, action, **kwargs):
    request = SupportRequest.file(
        repo=repo, requester=owner, action=action, reason="Because.", **kwargs
    )
    with run_on_commit():
        request.carry_out(staff, public_reason="Withdrawn by its authors.")


@pytest.mark.smoke
def test_a_removed_repositorys_doi_answers_gone_with_a_tombstone(
    client, locked, owner, staff, run_on_commit
):
    _carry_out(locked, owner, staff, run_on_commit, "delete")
    for doi in ("10.5072/hub/0001", "10.5072/hub/0002"):
        response = client.get(f"/doi/{doi}")
        assert response.status_code == 410
        html = response.content.decode()
        assert "Withdrawn by its authors." in html
        assert "Liddell" in html  # the citation
        ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        assert json.loads(ld.group(1))["@type"]
        # The audit trail: the DOI's own events and the repository's support request events.
        assert '<h2 id="history-heading">History</h2>' in html
        for event in ("Reserved", "Registered at DataCite", "Support request carried out"):
            assert event in html
        assert "Hidden at DataCite" in html


def test_a_private_repositorys_doi_keeps_a_public_page(client, locked, owner, staff, run_on_commit):
    _carry_out(locked, owner, staff, run_on_commit, "visibility", target_visibility="private")
    response = client.get("/doi/10.5072/hub/0002")
    assert response.status_code == 200
    html = response.content.decode()
    assert "no longer publicly available" in html and "Liddell" in html
    assert client.get(locked.url("page")).status_code == 404


def test_a_moved_repositorys_doi_follows_it(client, locked, owner, org, staff, run_on_commit):
    _carry_out(
        locked, owner, staff, run_on_commit, "rename", new_name="bert-base",
        new_namespace=org.namespace,
    )  # fmt: skip
    response = client.get("/doi/10.5072/hub/0001")  # the concept DOI: the repository
    assert response.status_code == 302 and response.url == "/wonderland/bert-base"
    old = client.get("/alice/bert")
    assert old.status_code in (301, 302) and old.url == "/wonderland/bert-base"


def test_strangers_do_not_see_the_private_repositorys_support_requests(
    client, locked, owner, org, staff
):
    # A request names what its owner plans: say, a new name in another namespace.
    SupportRequest.file(
        repo=locked, requester=owner, action="rename", reason="Because.",
        new_name="secret-plan", new_namespace=org.namespace,
    )  # fmt: skip
    with lock_override(actor=staff, reason="test: made private by staff"):
        locked.set_private(True)
    assert "secret-plan" not in client.get("/doi/10.5072/hub/0002").content.decode()
    client.force_login(owner)
    assert "secret-plan" in client.get("/doi/10.5072/hub/0002").content.decode()
