from __future__ import annotations

from django.urls import reverse

from repos.models import Repo, RepoLock


def test_staff_search_and_open_repositories(client, staff, repo, private_repo):
    client.force_login(staff)
    changelist = client.get(reverse("admin:repos_repo_changelist"), {"q": "secret"})
    assert changelist.status_code == 200
    assert "alice/secret" in changelist.text and "alice/bert" not in changelist.text
    assert (
        client.get(reverse("admin:repos_repo_changelist"), {"private__exact": "1"}).status_code
        == 200
    )
    page = client.get(reverse("admin:repos_repo_change", args=[repo.pk]))
    assert page.status_code == 200
    assert "2 revisions" in page.text


def test_staff_see_revisions_read_only_with_files(client, staff, repo):
    client.force_login(staff)
    found = client.get(reverse("admin:repos_revision_changelist"), {"q": repo.head.oid[:10]})
    assert repo.head.short_oid in found.text
    page = client.get(reverse("admin:repos_revision_change", args=[repo.head.pk]))
    assert page.status_code == 200
    assert "weights.bin (3\xa0bytes)" in page.text
    assert 'name="message"' not in page.text


def test_staff_see_old_names(client, staff, repo, owner):
    repo.move(namespace=owner.namespace, name="bert-v2")
    client.force_login(staff)
    response = client.get(reverse("admin:repos_reporedirect_changelist"), {"q": "bert"})
    assert response.status_code == 200
    assert "alice/bert-v2" in response.text


def test_the_admin_does_not_offer_what_a_lock_forbids(client, staff, repo):
    RepoLock.objects.create(repo=repo, reason="DOI", holder="doi:10.5072/hub/0001")
    client.force_login(staff)
    page = client.get(reverse("admin:repos_repo_change", args=[repo.pk]))
    assert "DOI (doi:10.5072/hub/0001)" in page.text
    assert 'name="private"' not in page.text
    assert client.post(reverse("admin:repos_repo_delete", args=[repo.pk])).status_code == 403
    data = {"action": "delete_selected", "_selected_action": [repo.pk], "post": "yes"}
    response = client.post(reverse("admin:repos_repo_changelist"), data)
    assert "alice/bert (locked by DOI)" in response.text
    assert Repo.objects.filter(pk=repo.pk).exists()
