"""Top-level URLs: the operations admin (the API joins under /api/v1/)."""
from django.contrib import admin
from django.urls import path

admin.site.site_header = "MBS servicing and remittance"
admin.site.site_title = "MBS back office"
admin.site.index_title = "Operations"

urlpatterns = [
    path("admin/", admin.site.urls),
]
