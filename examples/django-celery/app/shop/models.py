"""An order the worker prices, and the beat's tick counter."""

from django.db import models

PRICES_CENTS = {"apple": 40, "bread": 250, "coffee": 899}


class Order(models.Model):
    item = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, default="pending")  # pending -> priced
    total_cents = models.PositiveIntegerField(null=True)
    worker = models.CharField(max_length=128, blank=True)  # the Celery node that priced it
    created = models.DateTimeField(auto_now_add=True)
    priced = models.DateTimeField(null=True)


class Tick(models.Model):
    """One row, counted up by every periodic `tick` that beat sends and a worker runs."""

    count = models.PositiveIntegerField(default=0)
    last = models.DateTimeField(null=True)
