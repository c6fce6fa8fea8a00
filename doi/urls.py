app_name = "doi"

urlpatterns: list = []
