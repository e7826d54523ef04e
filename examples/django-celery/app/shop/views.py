"""/health, /ready, POST /orders (enqueued for the worker), GET /orders/<id>, GET /ticks."""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from shop.celery import app
from shop.models import PRICES_CENTS, Order, Tick
from shop.probe import broker_answers
from shop.tasks import price_order


def health(_: HttpRequest) -> JsonResponse:
    """The process serves: no dependency checked (liveness must not restart it for postgres)."""
    return JsonResponse({"status": "ok"})


def ready(_: HttpRequest) -> JsonResponse:
    problems = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
    except Exception as error:  # any driver error means "not ready", reported by name
        problems.append(f"database: {type(error).__name__}")
    try:
        if not broker_answers(app.conf.broker_url):
            problems.append("broker: no PONG")
    except OSError as error:
        problems.append(f"broker: {error}")
    return JsonResponse({"status": "not ready", "problems": problems} if problems else {"status": "ready"},
                        status=503 if problems else 200)


def as_json(order: Order) -> dict:
    return {"id": order.pk, "item": order.item, "quantity": order.quantity, "status": order.status,
            "total_cents": order.total_cents, "worker": order.worker}


@csrf_exempt
@require_POST
def create_order(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body)
        item, quantity = body["item"], body["quantity"]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": 'body must be JSON {"item": ..., "quantity": ...}'}, status=400)
    if item not in PRICES_CENTS or not isinstance(quantity, int) or quantity < 1:
        return JsonResponse({"error": f"item must be one of {sorted(PRICES_CENTS)}, quantity an integer >= 1"},
                            status=400)
    order = Order.objects.create(item=item, quantity=quantity)
    price_order.delay(order.pk)
    return JsonResponse(as_json(order), status=202)


@require_GET
def get_order(_: HttpRequest, order_id: int) -> JsonResponse:
    order = Order.objects.filter(pk=order_id).first()
    return JsonResponse(as_json(order)) if order else JsonResponse({"error": "no such order"}, status=404)


@require_GET
def ticks(_: HttpRequest) -> JsonResponse:
    tick = Tick.objects.filter(pk=1).first()
    return JsonResponse({"count": tick.count if tick else 0, "last": tick.last.isoformat() if tick and tick.last else None})
