"""create_repo, update_repo_settings, move_repo and delete_repo through the real client, and
the DOI lock that refuses the last three."""

from __future__ import annotations

import pytest
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from repos.models import Repo, RepoRedirect, RepoType
from tests.factories import MembershipFactory, RepoFactory, commit_files, mint_doi


@pytest.fixture(autouse=True)
def _site_url(settings, live_server):
    settings.SITE_URL = live_server.url


@pytest.fixture
def api(hub_api, token_for, owner):
    return hub_api(token_for(owner))


@pytest.fixture
def bert(owner):
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(repo, owner, {"README.md": "# Bert\n"})
    return repo


@pytest.fixture
def locked(bert, owner):
    mint_doi(bert, owner)
    assert bert.is_locked
    return bert


def _refusal(call) -> HfHubHTTPError:
    with pytest.raises(HfHubHTTPError) as refused:
        call()
    return refused.value


# create_repo --------------------------------------------------------------------------------


def test_it_creates_public_and_private_models_and_datasets(api, live_server, owner):
    url = api.create_repo("alice/bert")
    assert url == f"{live_server.url}/alice/bert"
    assert (url.repo_id, url.repo_type) == ("alice/bert", "model")
    url = api.create_repo("squad", repo_type="dataset", private=True)
    assert (url, url.repo_type) == (f"{live_server.url}/datasets/alice/squad", "dataset")
    made = {(r.type, r.full_name, r.private) for r in Repo.objects.all()}
    assert made == {(RepoType.MODEL, "alice/bert", False), (RepoType.DATASET, "alice/squad", True)}


def test_it_creates_under_an_organization_where_the_user_may_write(
    hub_api, token_for, org, writer, reader
):
    hub_api(token_for(writer)).create_repo("wonderland/croquet", visibility="private")
    assert Repo.objects.get(name="croquet").namespace == org.namespace
    refused = _refusal(lambda: hub_api(token_for(reader)).create_repo("wonderland/tea"))
    assert refused.response.status_code == 403
    assert "You cannot create repositories under wonderland: only the admins and writers" in str(
        refused
    )
    assert not Repo.objects.filter(name="tea").exists()


def test_it_refuses_another_users_namespace(api, stranger):
    refused = _refusal(lambda: api.create_repo(f"{stranger.username}/bert"))
    assert refused.response.status_code == 403
    assert f"only {stranger.username} itself can" in str(refused)


def test_an_existing_name_is_a_conflict_unless_it_may_exist(api, bert, live_server):
    refused = _refusal(lambda: api.create_repo("alice/BERT"))
    assert refused.response.status_code == 409
    assert "You already have a model repo alice/bert: it exists already." in str(refused)
    assert api.create_repo("alice/bert", exist_ok=True) == f"{live_server.url}/alice/bert"
    assert Repo.objects.count() == 1


def test_it_refuses_names_the_site_refuses(live_server, token_for, owner, hf_home):
    # The client checks names itself first, by rules like the site's: past it, the hub's own.
    from huggingface_hub.utils import get_session, hf_raise_for_status

    response = get_session().post(
        f"{live_server.url}/api/repos/create",
        headers={"Authorization": f"Bearer {token_for(owner)}"},
        json={"name": "bad--name"},
    )
    refused = _refusal(lambda: hf_raise_for_status(response))
    assert refused.response.status_code == 400
    assert "“bad--name” cannot be the name of a repository: '--' and '..' are not allowed" in str(
        refused
    )
    assert not Repo.objects.exists()


def test_it_offers_no_spaces(api):
    refused = _refusal(lambda: api.create_repo("alice/demo", repo_type="space", space_sdk="static"))
    assert "Spaces are not offered by this hub: only models and datasets." in str(refused)


def test_a_read_token_cannot_create(hub_api, token_for, owner):
    refused = _refusal(lambda: hub_api(token_for(owner, "read")).create_repo("alice/bert"))
    assert refused.response.status_code == 403
    assert "has read scope only; this needs a write token" in str(refused)
    assert not Repo.objects.exists()


# update_repo_settings -----------------------------------------------------------------------


def test_it_changes_the_visibility(api, bert):
    api.update_repo_settings("alice/bert", private=True)
    bert.refresh_from_db()
    assert bert.private
    api.update_repo_settings("alice/bert", visibility="public")
    bert.refresh_from_db()
    assert not bert.private


def test_it_refuses_gated_access(api, bert):
    refused = _refusal(lambda: api.update_repo_settings("alice/bert", gated="manual"))
    assert refused.response.status_code == 400
    assert "Gated access is not offered by this hub" in str(refused)


def test_only_admins_change_settings_and_strangers_see_no_private_repository(
    hub_api, token_for, org, writer, stranger
):
    croquet = RepoFactory(namespace=org.namespace, name="croquet", private=True)
    refused = _refusal(
        lambda: hub_api(token_for(writer)).update_repo_settings("wonderland/croquet", private=False)
    )
    assert refused.response.status_code == 403
    assert "Only the owner or an organization admin may change the settings" in str(refused)
    with pytest.raises(RepositoryNotFoundError):
        hub_api(token_for(stranger)).update_repo_settings("wonderland/croquet", private=False)
    croquet.refresh_from_db()
    assert croquet.private


# move_repo ----------------------------------------------------------------------------------


def test_it_renames_and_moves_to_an_organization_the_user_administers(api, bert, org):
    api.move_repo("alice/bert", "wonderland/bert-base")
    bert.refresh_from_db()
    assert bert.full_name == "wonderland/bert-base"
    assert RepoRedirect.objects.get(repo=bert).name == "bert"


def test_it_refuses_to_move_to_an_organization_the_user_does_not_administer(
    hub_api, token_for, bert, owner
):
    other = MembershipFactory(user=owner, role="write").organization
    refused = _refusal(lambda: hub_api(token_for(owner)).move_repo("alice/bert", f"{other}/bert"))
    assert refused.response.status_code == 403
    assert f"You cannot move repositories under {other}: only the admins of {other}" in str(refused)
    bert.refresh_from_db()
    assert bert.full_name == "alice/bert"


def test_it_refuses_a_taken_or_invalid_name(api, bert, owner):
    RepoFactory(namespace=owner.namespace, name="gpt")
    refused = _refusal(lambda: api.move_repo("alice/bert", "alice/gpt"))
    assert "alice already has a model named “gpt”." in str(refused)
    refused = _refusal(lambda: api.move_repo("alice/bert", "alice/-gpt"))
    assert "A name cannot start or end with '-' or '.'." in str(refused)
    bert.refresh_from_db()
    assert bert.name == "bert"


# delete_repo --------------------------------------------------------------------------------


def test_it_deletes_and_a_missing_repository_may_be_missing(api, bert):
    api.delete_repo("alice/bert")
    assert not Repo.objects.filter(pk=bert.pk).exists()
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo("alice/bert")
    api.delete_repo("alice/bert", missing_ok=True)


def test_writers_cannot_delete(hub_api, token_for, org, writer):
    repo = RepoFactory(namespace=org.namespace, name="croquet")
    refused = _refusal(lambda: hub_api(token_for(writer)).delete_repo("wonderland/croquet"))
    assert refused.response.status_code == 403
    assert Repo.objects.filter(pk=repo.pk).exists()


def test_a_read_token_cannot_delete(hub_api, token_for, owner, bert):
    refused = _refusal(lambda: hub_api(token_for(owner, "read")).delete_repo("alice/bert"))
    assert refused.response.status_code == 403
    assert "read scope only" in str(refused)
    assert Repo.objects.filter(pk=bert.pk).exists()


# The DOI lock -------------------------------------------------------------------------------


def _says_locked(refused: HfHubHTTPError, repo: Repo, action: str, live_server) -> None:
    assert refused.response.status_code == 423
    message = str(refused)
    assert "alice/bert is locked by DOI: it cannot be" in message
    assert "File a support request and staff will carry it out" in message
    assert (
        f"Request it here: {live_server.url}/support/new?repo={repo.pk}&action={action}" in message
    )


def test_a_locked_repository_is_not_deleted(api, locked, live_server):
    refused = _refusal(lambda: api.delete_repo("alice/bert"))
    _says_locked(refused, locked, "delete", live_server)
    assert "it cannot be deleted by its owner" in str(refused)
    assert Repo.objects.filter(pk=locked.pk).exists()


def test_a_locked_repository_is_not_moved(api, locked, live_server, org):
    for target in ("alice/bert-v2", "wonderland/bert"):
        refused = _refusal(lambda target=target: api.move_repo("alice/bert", target))
        _says_locked(refused, locked, "rename", live_server)
    locked.refresh_from_db()
    assert locked.full_name == "alice/bert"


def test_a_locked_repository_keeps_its_visibility(api, locked, live_server):
    refused = _refusal(lambda: api.update_repo_settings("alice/bert", private=True))
    _says_locked(refused, locked, "visibility", live_server)
    assert "it cannot be made private" in str(refused)
    locked.refresh_from_db()
    assert not locked.private


def test_the_support_request_link_opens_the_filled_in_form(api, locked, client, owner):
    refused = _refusal(lambda: api.delete_repo("alice/bert"))
    link = str(refused).split("Request it here: ")[1].split()[0]
    client.force_login(owner)
    response = client.get(link)
    assert response.status_code == 200
    assert response.context["repo"] == locked
    assert response.context["action"] == "delete"
