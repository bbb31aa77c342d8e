"""The JSON API (Django Ninja), mounted at /api/v1/. OpenAPI schema at /api/v1/openapi.json."""

from ninja import NinjaAPI

api = NinjaAPI(title="Crisis Desk API", version="1", urls_namespace="api-v1")
