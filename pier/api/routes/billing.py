"""Money over the API: an account's balance, limits, ledger, usage and estimates; the admin's
prices and top-ups. Amounts are decimal strings of dollars (`*_usd`)."""

from __future__ import annotations

import csv
import functools
import io
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pier.api import openapi
from pier.api.deps import AccountDep, ServicesDep, decode_time_cursor, encode_cursor, json_body
from pier.api.errors import ApiError, not_found
from pier.api.jsonresponse import json_response
from pier.api.routes.admin import AdminDep
from pier.billing import admin, ledger, reports
from pier.billing.money import BadAmount, parse_usd, usd
from pier.billing.prices import PER_SECOND, PER_UNIT, hold_for
from pier.store import Row
from pier.util import utcnow
from pier.webhooks import TargetRefused, check_url

router = APIRouter()

USD = {"type": ["string", "number"], "description": 'Dollars, such as "0.25" (up to 6 decimals)'}
NULLABLE_USD = {**USD, "type": ["string", "number", "null"]}
BILLING_BODY = openapi.json_body(
    {
        "type": "object",
        "properties": {
            "monthly_limit_usd": NULLABLE_USD,
            "low_balance_alert_usd": NULLABLE_USD,
            "alert_webhook": {"type": ["string", "null"], "format": "uri"},
        },
    }
)
TOKEN_LIMIT_BODY = openapi.json_body(
    {
        "type": "object",
        "required": ["monthly_limit_usd"],
        "properties": {"monthly_limit_usd": NULLABLE_USD},
    }
)
PRICE_BODY = openapi.json_body(
    {
        "type": "object",
        "properties": {
            "hardware": {"type": "string"},
            "model": {"type": "string", "description": "owner/name"},
            "per_second_usd": USD,
            "per_run_usd": USD,
            "per_unit_usd": USD,
            "unit": {"type": "string"},
        },
    }
)
CREDIT_BODY = openapi.json_body(
    {
        "type": "object",
        "required": ["amount_usd"],
        "properties": {"amount_usd": USD, "memo": {"type": "string", "maxLength": 500}},
    }
)

PAGE_SIZE = 100
MAX_DAYS = 366


def _amount(
    body: dict[str, Any], key: str, *, nullable: bool = True, positive: bool = False
) -> Any:
    value = body[key]
    if value is None and nullable:
        return None
    try:
        return parse_usd(value, name=key, allow_zero=not positive)
    except BadAmount as exc:
        raise ApiError(422, f"- {key}: {exc}\n", invalid_fields=[_field(key, str(exc))]) from exc


def _field(name: str, description: str) -> dict[str, str]:
    return {"type": "invalid", "field": name, "description": description}


async def _summary(svc: ServicesDep, account_id: str) -> dict[str, Any]:
    row = await svc.store.db.read(lambda conn: reports.balance_row(conn, account_id))
    return reports.summary(row, utcnow())


@router.get("/v1/billing")
async def get_billing(account: AccountDep, svc: ServicesDep) -> Response:
    """Balance, holds, what is available, this month's spend and the limit."""
    return json_response(await _summary(svc, account["id"]))


BILLING_FIELDS = {
    "monthly_limit_usd": "monthly_limit_micros",
    "low_balance_alert_usd": "low_balance_micros",
    "alert_webhook": "alert_webhook",
}


@router.patch("/v1/billing", openapi_extra=BILLING_BODY)
async def patch_billing(request: Request, account: AccountDep, svc: ServicesDep) -> Response:
    """Set the monthly spend limit, the low-balance alert threshold or the alert webhook (null
    clears one)."""
    body = await json_body(request)
    unknown = sorted(set(body) - set(BILLING_FIELDS))
    if unknown:
        raise ApiError(
            422,
            f"Unknown field(s): {', '.join(unknown)}. Send any of {', '.join(BILLING_FIELDS)}.",
        )
    changes: dict[str, object] = {}
    for key, column in BILLING_FIELDS.items():
        if key not in body:
            continue
        if key == "alert_webhook":
            changes[column] = _alert_webhook(svc, body[key])
        else:
            changes[column] = _amount(body, key)
    if changes:
        now = utcnow()
        await svc.store.db.write(
            *admin.set_account_rules(account["id"], now, svc.store.db.dialect, changes)
        )
    return json_response(await _summary(svc, account["id"]))


def _alert_webhook(svc: ServicesDep, value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return check_url(value, svc.settings.allow_private_webhooks)
    except TargetRefused as exc:
        raise ApiError(
            422, f"- alert_webhook: {exc}\n", invalid_fields=[_field("alert_webhook", str(exc))]
        ) from exc


@router.get("/v1/billing/ledger")
async def get_ledger(
    request: Request, account: AccountDep, svc: ServicesDep, cursor: str | None = None
) -> Response:
    """The account's ledger, newest first: top-ups, holds, releases and charges."""
    after = decode_time_cursor(cursor) if cursor else None
    rows = await svc.store.db.read(
        lambda conn: reports.entries(conn, account["id"], after, PAGE_SIZE + 1)
    )
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    next_url = None
    if more:
        last = rows[-1]
        token = encode_cursor([last["created_at"].isoformat(), last["id"]])
        next_url = str(request.url.include_query_params(cursor=token))
    return json_response(
        {"results": [reports.entry_json(r) for r in rows], "next": next_url, "previous": None}
    )


CSV_COLUMNS = (
    "created_at",
    "kind",
    "amount_usd",
    "available_usd",
    "held_usd",
    "model",
    "prediction_id",
    "memo",
    "id",
)


@router.get("/v1/billing/ledger.csv")
async def get_ledger_csv(account: AccountDep, svc: ServicesDep) -> Response:
    """The whole ledger as CSV, newest first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    after: tuple[datetime, str] | None = None
    while True:
        rows = await svc.store.db.read(
            functools.partial(reports.entries, account_id=account["id"], after=after, limit=1000)
        )
        for row in rows:
            item = reports.entry_json(row)
            writer.writerow([item[c] if item[c] is not None else "" for c in CSV_COLUMNS])
        if len(rows) < 1000:
            break
        after = (rows[-1]["created_at"], rows[-1]["id"])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="pier-ledger.csv"'},
    )


@router.get("/v1/billing/usage")
async def get_usage(account: AccountDep, svc: ServicesDep, days: str = "30") -> Response:
    """Spend per day (every day of the period, oldest first) and per model."""
    if not days.isdigit() or not 1 <= int(days) <= MAX_DAYS:
        raise ApiError(400, f"days must be a whole number from 1 to {MAX_DAYS}.")
    count = int(days)
    now = utcnow()
    body = await svc.store.db.read(lambda conn: reports.usage(conn, account["id"], count, now))
    return json_response(body)


@router.get("/v1/billing/estimate")
async def get_estimate(account: AccountDep, svc: ServicesDep, version: str = "") -> Response:
    """What a run of a model is likely to cost, and the credit it holds while it runs."""
    model = await _model(svc, account, version)
    billing = svc.dispatcher.billing
    price = await billing.price(model["id"])
    typical = None
    if price.basis == PER_SECOND and model.get("latest_version_id"):
        typical = await svc.dispatcher.elsewhere.typical_run_time(model["latest_version_id"])
    seconds = max(svc.settings.billing_hold_seconds, (typical or 0) * 1.5)
    held = hold_for(price, {}, min(seconds, svc.settings.prediction_timeout))
    estimate: int | None
    if price.free:
        estimate = 0
    elif price.basis == PER_SECOND:  # unknown (null) until a run of the version was measured
        estimate = round(price.micros * typical) if typical is not None else None
    else:
        estimate = price.micros
    return json_response(
        {
            "estimate_usd": usd(estimate) if estimate is not None else None,
            "hold_usd": usd(held),
            "basis": "free" if price.free else price.basis,
            "typical_run_seconds": typical,
            "price": _price_json(price.basis, price.micros, price.hardware, price.unit),
        }
    )


def _price_json(basis: str, micros: int, hardware: str, unit: str | None) -> dict[str, Any]:
    if basis == "free":
        return {"hardware": hardware}
    out: dict[str, Any] = {f"{basis}_usd": usd(micros), "hardware": hardware}
    if basis == PER_UNIT:
        out["unit"] = unit or "output"
    return out


async def _model(svc: ServicesDep, account: Row, ref: str) -> Row:
    owner, _, rest = ref.partition("/")
    name = rest.split(":", 1)[0]
    if not owner or not name:
        raise ApiError(400, "Pass ?version=owner/name (or owner/name:version-id).")
    model = await svc.store.get_model(owner, name, account["id"])
    if model is None:
        raise not_found("Model")
    return model


@router.get("/v1/billing/tokens/{token_id}")
async def get_token_limit(token_id: str, account: AccountDep, svc: ServicesDep) -> Response:
    """An API token's monthly spend limit and what it spent and holds this month."""
    return json_response(await _token_json(svc, account["id"], token_id))


@router.patch("/v1/billing/tokens/{token_id}", openapi_extra=TOKEN_LIMIT_BODY)
async def patch_token_limit(
    token_id: str, request: Request, account: AccountDep, svc: ServicesDep
) -> Response:
    """Set (or clear with null) an API token's monthly spend limit."""
    body = await json_body(request)
    if set(body) != {"monthly_limit_usd"}:
        raise ApiError(422, 'Send {"monthly_limit_usd": "…"} (null removes the limit).')
    limit = _amount(body, "monthly_limit_usd")
    if not await svc.store.db.write(admin.set_token_limit(account["id"], token_id, limit)):
        raise not_found("Token")
    return json_response(await _token_json(svc, account["id"], token_id))


async def _token_json(svc: ServicesDep, account_id: str, token_id: str) -> dict[str, Any]:
    row = await svc.store.db.read(lambda conn: admin.token_spend(conn, account_id, token_id))
    if row is None:
        raise not_found("Token")
    month = ledger.month_of(utcnow())
    limit = row["monthly_limit_micros"]
    spent = int(row["month_spent_micros"]) if row["month"] == month else 0  # type: ignore[call-overload]
    return {
        "id": token_id,
        "monthly_limit_usd": usd(int(limit)) if limit is not None else None,  # type: ignore[call-overload]
        "spent_this_month_usd": usd(spent),
        "held_usd": usd(int(row["held_micros"])),  # type: ignore[call-overload]
    }


# -- the admin ---------------------------------------------------------------------------------


@router.get("/v1/admin/prices")
async def list_prices(_admin: AdminDep, svc: ServicesDep) -> Response:
    return json_response({"results": await svc.store.db.read(reports.price_list)})


@router.put("/v1/admin/prices", openapi_extra=PRICE_BODY)
async def put_price(request: Request, _admin: AdminDep, svc: ServicesDep) -> Response:
    """Price a hardware class per second, or a model per second, per run or per output unit."""
    body = await json_body(request)
    scope, key = await _price_target(svc, body)
    bases = [b for b in ("per_second_usd", "per_run_usd", "per_unit_usd") if b in body]
    if len(bases) != 1 or (scope == "hardware" and bases != ["per_second_usd"]):
        raise ApiError(
            422,
            "Send one price: per_second_usd for a hardware class; per_second_usd, per_run_usd "
            "or per_unit_usd (with unit) for a model.",
        )
    amount = _amount(body, bases[0], nullable=False)
    unit = body.get("unit")
    if unit is not None and (not isinstance(unit, str) or not 0 < len(unit) <= 32):
        raise ApiError(422, "- unit: must be a short word such as image or token\n")
    basis = bases[0].removesuffix("_usd")
    await svc.store.db.write(
        *admin.set_price(
            scope,
            key,
            utcnow(),
            unit=unit if basis == "per_unit" else None,
            **{basis: amount},
        )
    )
    svc.dispatcher.billing.forget_prices()
    return json_response({"results": await svc.store.db.read(reports.price_list)})


@router.delete("/v1/admin/prices", openapi_extra=PRICE_BODY)
async def delete_price(request: Request, _admin: AdminDep, svc: ServicesDep) -> Response:
    body = await json_body(request)
    scope, key = await _price_target(svc, body)
    if not await svc.store.db.write(admin.delete_price(scope, key)):
        raise not_found("Price")
    svc.dispatcher.billing.forget_prices()
    return json_response({"results": await svc.store.db.read(reports.price_list)})


async def _price_target(svc: ServicesDep, body: dict[str, Any]) -> tuple[str, str]:
    hardware, model = body.get("hardware"), body.get("model")
    if (hardware is None) == (model is None):
        raise ApiError(422, 'Name what the price is for: "hardware" (such as cpu) or "model".')
    if hardware is not None:
        if not isinstance(hardware, str) or not 0 < len(hardware) <= 64:
            raise ApiError(422, "- hardware: must be a hardware class name such as cpu\n")
        return "hardware", hardware
    if not isinstance(model, str) or model.count("/") != 1:
        raise ApiError(422, "- model: must be owner/name\n")
    owner, name = model.split("/")
    row = await svc.store.get_model(owner, name)
    if row is None:
        raise not_found("Model")
    return "model", row["id"]


@router.post("/v1/admin/accounts/{username}/credit", openapi_extra=CREDIT_BODY)
async def add_credit(
    username: str, request: Request, _admin: AdminDep, svc: ServicesDep
) -> Response:
    """Top up an account's prepaid credit."""
    body = await json_body(request)
    if "amount_usd" not in body:
        raise ApiError(422, '- amount_usd: required, such as "10" or "0.50"\n')
    amount = _amount(body, "amount_usd", nullable=False, positive=True)
    memo = body.get("memo")
    if memo is not None and (not isinstance(memo, str) or len(memo) > 500):
        raise ApiError(422, "- memo: must be text of at most 500 characters\n")
    target = await svc.store.get_account_by_username(username)
    if target is None:
        raise not_found("Account")
    await svc.store.db.transact(
        ledger.top_up(target["id"], amount, memo, utcnow(), svc.store.db.dialect)
    )
    return json_response({"username": username, **await _summary(svc, target["id"])})


@router.get("/v1/admin/billing")
async def all_billing(_admin: AdminDep, svc: ServicesDep) -> Response:
    """Every account's balance, holds and spend."""
    now = utcnow()
    return json_response(
        {"results": await svc.store.db.read(lambda conn: reports.all_balances(conn, now))}
    )
