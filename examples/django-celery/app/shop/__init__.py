"""The shop: a Django project whose orders a Celery worker prices, and a beat that ticks."""

from shop.celery import app as celery_app

__all__ = ["celery_app"]
