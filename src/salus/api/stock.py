"""GET /stock: stock levels at the user's sites; GET /stock/movements: the movements behind them."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Query, Router, Schema

from salus.api.schemas import ERRORS, ListParams, Page, check_dates, filter_site, page
from salus.core import access

router = Router(tags=["stock"])


class StockLevelOut(Schema):
    site: str
    commodity: str
    commodity_name: str
    unit: str
    quantity: int
    needs_reconciling: bool
    updated_at: dt.datetime


class StockMovementOut(Schema):
    id: uuid.UUID
    site: str
    commodity: str
    kind: str
    quantity: int
    occurred_on: dt.date
    contact: uuid.UUID | None


@router.get("/stock", response={200: Page[StockLevelOut], **ERRORS})
def list_stock(request, params: Query[ListParams]):
    """Current levels (units in each commodity's ``unit``). A negative quantity means more was
    given out than recorded as received: reconcile it with an adjustment. Levels are the
    balance now, so ``date_from``/``date_to`` do not apply (see /stock/movements)."""
    check_dates(params)
    qs = filter_site(access.stock_levels(request.auth), request.auth, params.site)
    qs = qs.order_by("site__code", "commodity__code", "id")
    return page(qs, params, lambda lv: {
        "site": lv.site.code, "commodity": lv.commodity_id, "commodity_name": lv.commodity.name,
        "unit": lv.commodity.unit, "quantity": lv.quantity, "needs_reconciling": lv.needs_reconciling,
        "updated_at": lv.updated_at,
    })


@router.get("/stock/movements", response={200: Page[StockMovementOut], **ERRORS})
def list_stock_movements(request, params: Query[ListParams]):
    """Movements, newest day first. ``quantity`` is signed: receipts positive, items given
    out negative. ``contact`` is the contact a distribution was recorded in."""
    check_dates(params)
    qs = filter_site(access.stock_movements(request.auth), request.auth, params.site)
    if params.date_from:
        qs = qs.filter(occurred_on__gte=params.date_from)
    if params.date_to:
        qs = qs.filter(occurred_on__lte=params.date_to)
    qs = qs.order_by("-occurred_on", "-at", "id")
    return page(qs, params, lambda m: {
        "id": m.id, "site": m.site.code, "commodity": m.commodity_id, "kind": m.kind,
        "quantity": m.quantity, "occurred_on": m.occurred_on, "contact": m.contact_id,
    })
