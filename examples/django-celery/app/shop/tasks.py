"""The worker's tasks: they write their results into the database, where the web reads them."""

from __future__ import annotations

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from shop.models import PRICES_CENTS, Order, Tick


@shared_task(bind=True)
def price_order(self, order_id: int) -> None:
    order = Order.objects.get(pk=order_id)
    order.total_cents = PRICES_CENTS[order.item] * order.quantity
    order.status, order.worker, order.priced = "priced", self.request.hostname, timezone.now()
    order.save()


@shared_task
def tick() -> None:
    Tick.objects.get_or_create(pk=1)
    Tick.objects.filter(pk=1).update(count=F("count") + 1, last=timezone.now())
