"""The JSON API under /api/v1/: one NinjaAPI, one router per domain."""

from ninja import NinjaAPI

api = NinjaAPI(title="Salus API", version="1", urls_namespace="api-v1")
