"""The download addresses of the Hub (outside /api/), under each repository's own URL."""

from hubapi.views import files
from repos import pages

app_name = "hubapi-files"

# ``stored_path`` is registered by repos.urls, which the root URLconf includes first.
urlpatterns = pages.routes(("resolve/<str:revision>/<stored_path:path>", files.resolve, "resolve"))
