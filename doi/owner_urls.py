from doi import owner_views as views
from repos import pages

app_name = "doi-owner"

# The DOI settings of a repository, under its settings URL: repo.url("doi-owner:section").
urlpatterns = pages.routes(
    ("settings/doi", views.section, "section"),
    ("settings/doi/generate", views.generate, "generate"),
    ("settings/doi/<int:pk>/edit", views.edit, "edit"),
    ("settings/doi/<int:pk>/retry", views.retry, "retry"),
)
