"""The JSON API under /api/v1/: one NinjaAPI, one router per domain.

Every operation needs a bearer token (salus.api.auth). The OpenAPI schema is served at
/api/v1/openapi.json; the interactive docs page is off because it loads its scripts from a CDN.
"""

from ninja import NinjaAPI

from salus.api import clients, contacts, errors, indicators, ost, overdoses, referrals, sites, stock
from salus.api.auth import BearerToken

api = NinjaAPI(
    title="Salus API",
    version="1",
    description="Anonymous service records of a harm reduction program. See docs/api.md.",
    urls_namespace="api-v1",
    docs_url=None,
    auth=BearerToken(),
)
errors.install(api)

for module in (clients, contacts, referrals, sites, stock, ost, overdoses, indicators):
    api.add_router("/", module.router)
# Other packages' routers, each under its own prefix.
api.add_router("/care/", "salus.care.api.router")
