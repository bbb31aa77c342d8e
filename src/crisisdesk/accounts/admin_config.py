"""Stands in for "django.contrib.admin" in INSTALLED_APPS, so `admin.site` is the site that requires
the second factor (accounts.admin_site). Its own module: an app config may not import models."""

from django.contrib.admin.apps import AdminConfig


class CrisisDeskAdminConfig(AdminConfig):
    default_site = "crisisdesk.accounts.admin_site.CrisisDeskAdminSite"
