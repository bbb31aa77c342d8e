"""URLs of the directory pages (included by web/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from crisisdesk.web.views import directory

urlpatterns: list[URLPattern] = [
    path("directory/", directory.directory_search, name="directory_search"),
    path("directory/maintain/", directory.directory_maintain, name="directory_maintain"),
    path("directory/maintain/verify/", directory.directory_verify, name="directory_verify"),
    path("directory/services/<int:service_id>/edit/", directory.directory_edit, name="directory_edit"),
    path("directory/imports/<int:run_id>/", directory.directory_import_run, name="directory_import_run"),
]
