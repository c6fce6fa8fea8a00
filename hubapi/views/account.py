from __future__ import annotations

from django.http import HttpResponse, JsonResponse

from hubapi.auth import ApiRequest, endpoint
from hubapi.info import hub_time


@endpoint(scope="read")
def whoami(request: ApiRequest) -> HttpResponse:
    """The token's user, its organizations and the token, as the Hub's ``/api/whoami-v2``."""
    user, token = request.user, request.access_token
    memberships = user.memberships.select_related("organization__namespace")
    return JsonResponse(
        {
            "type": "user",
            "id": str(user.pk),
            "name": user.username,
            "fullname": user.get_full_name(),
            "email": user.email,
            "orgs": [
                {
                    "type": "org",
                    "id": str(m.organization.pk),
                    "name": m.organization.name,
                    "fullname": m.organization.display_name or m.organization.name,
                    "roleInOrg": m.role,
                }
                for m in memberships
            ],
            "auth": {
                "type": "access_token",
                "accessToken": {
                    "displayName": token.name,
                    "role": token.scope,
                    "createdAt": hub_time(token.created_at),
                },
            },
        }
    )
