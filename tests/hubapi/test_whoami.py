"""Access tokens through the real client: who a token is, and the tokens it refuses."""

from __future__ import annotations

import pytest
from huggingface_hub.errors import HfHubHTTPError

from accounts.models import AccessToken


def test_it_says_who_the_token_is_with_its_organizations(hub_api, token_for, owner, org):
    me = hub_api(token_for(owner, "write", name="laptop")).whoami()
    assert me["type"] == "user"
    assert (me["name"], me["fullname"], me["email"]) == ("alice", "Alice Liddell", owner.email)
    assert me["orgs"] == [
        {
            "type": "org",
            "id": str(org.pk),
            "name": "wonderland",
            "fullname": org.display_name,
            "roleInOrg": "admin",
        }
    ]
    assert me["auth"]["accessToken"]["displayName"] == "laptop"
    assert me["auth"]["accessToken"]["role"] == "write"


def test_a_read_token_says_it_can_read(hub_api, token_for, owner):
    api = hub_api(token_for(owner, "read"))
    assert api.whoami()["auth"]["accessToken"]["role"] == "read"


def test_it_notes_when_a_token_was_last_used(hub_api, token_for, owner):
    secret = token_for(owner)
    token = AccessToken.objects.get()
    assert token.last_used_at is None
    hub_api(secret).whoami()
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_refuses_a_revoked_token(hub_api, token_for, owner):
    secret = token_for(owner)
    AccessToken.objects.get().revoke()
    with pytest.raises(HfHubHTTPError) as refused:
        hub_api(secret).whoami()
    # whoami puts its own words on any 401.
    assert (refused.value.response.status_code, str(refused.value)) == (401, "Invalid user token.")


def test_other_calls_print_why_a_token_is_refused(hub_api, token_for, owner):
    secret = token_for(owner)
    AccessToken.objects.get().revoke()
    with pytest.raises(HfHubHTTPError) as refused:
        list(hub_api(secret).list_spaces())
    assert refused.value.response.status_code == 401
    assert "was revoked on" in str(refused.value)
    assert "Create a token in Settings → Access tokens: http://" in str(refused.value)


def test_it_refuses_an_unknown_token(hub_api, owner):
    with pytest.raises(HfHubHTTPError) as refused:
        list(hub_api("hub_not-a-real-token").list_spaces())
    assert refused.value.response.status_code == 401
    assert "This access token is not known here." in str(refused.value)


def test_it_refuses_the_token_of_a_deactivated_user(hub_api, token_for, owner):
    secret = token_for(owner)
    owner.is_active = False
    owner.save()
    with pytest.raises(HfHubHTTPError) as refused:
        hub_api(secret).whoami()
    assert refused.value.response.status_code == 401


def test_an_address_the_hub_does_not_offer_is_a_json_404_the_client_prints(
    hub_api, token_for, owner
):
    with pytest.raises(HfHubHTTPError) as refused:
        list(hub_api(token_for(owner)).list_spaces())
    assert refused.value.response.status_code == 404
    assert "GET /api/spaces is not supported by this hub." in str(refused.value)
