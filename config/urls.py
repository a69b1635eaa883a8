"""Top-level URLs: the operations admin and the REST API under /api/v1/."""
from django.contrib import admin
from django.urls import include, path

from analytics.admin import analytics_admin_urls
from remittance.admin import operations_admin_urls

admin.site.site_header = "MBS servicing and remittance"
admin.site.site_title = "MBS back office"
admin.site.index_title = "Operations"

urlpatterns = [
    # the site's URLs + dashboard index + report page + the analytics scenarios page
    path("admin/", operations_admin_urls(admin.site, extra=analytics_admin_urls(admin.site))),
    path("api/v1/", include("api.urls")),
]

# Errors outside any view (an unknown URL, a crash): JSON in the API's one shape under /api/.
handler400 = "api.errors.bad_request"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_failure"
