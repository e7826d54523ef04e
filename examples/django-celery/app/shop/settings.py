"""Settings from the environment the stack file sets (examples/django-celery/Pulumi.django-celery.yaml).

Secrets come as files (`<NAME>_FILE`, mounted read-only by leanstack), never as values in the env.
Nothing is written under the image: the root filesystem is read-only, HOME is /tmp, collectstatic
fills the emptyDir at STATIC_ROOT.
"""

from __future__ import annotations

import os
from pathlib import Path


def secret(name: str) -> str:
    """The content of the file `<name>_FILE` points at."""
    path = os.environ.get(f"{name}_FILE")
    if not path:
        raise RuntimeError(f"{name}_FILE is not set: it names the file that holds {name}")
    return Path(path).read_text().strip()


BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = secret("DJANGO_SECRET_KEY")
DEBUG = False
# Probes reach pods by IP and the ingress by its host: both must be accepted.
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "*").split(",")

INSTALLED_APPS = ["django.contrib.sessions", "django.contrib.staticfiles", "shop"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("DATABASE_HOST", "127.0.0.1"),
        "PORT": os.environ.get("DATABASE_PORT", "5432"),
        "NAME": os.environ.get("DATABASE_NAME", "shop"),
        "USER": os.environ.get("DATABASE_USER", "postgres"),
        # beat never touches the database and gets no password file.
        "PASSWORD": secret("DATABASE_PASSWORD") if os.environ.get("DATABASE_PASSWORD_FILE") else "",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 3},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT")

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True  # results go to the database, not to a result backend
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "tick": {"task": "shop.tasks.tick", "schedule": float(os.environ.get("SHOP_TICK_SECONDS", "30"))},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stdout": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stdout"], "level": "INFO"},
}
