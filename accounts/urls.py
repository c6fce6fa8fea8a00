from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import LoginForm

app_name = "accounts"

urlpatterns = [
    path("join", views.join, name="join"),
    path(
        "login",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/profile", views.profile, name="profile"),
    path("settings/password", views.password, name="password"),
    path("settings/tokens", views.tokens, name="tokens"),
    path("settings/tokens/<int:pk>/revoke", views.token_revoke, name="token-revoke"),
    path("organizations/new", views.organization_new, name="organization-new"),
    path(
        "organizations/<str:name>/settings",
        views.organization_settings,
        name="organization-settings",
    ),
    path(
        "organizations/<str:name>/settings/members/add",
        views.member_add,
        name="member-add",
    ),
    path(
        "organizations/<str:name>/settings/members/<str:username>/role",
        views.member_role,
        name="member-role",
    ),
    path(
        "organizations/<str:name>/settings/members/<str:username>/remove",
        views.member_remove,
        name="member-remove",
    ),
]
