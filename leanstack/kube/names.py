"""Names derived from a service's name: every object that belongs to a service is named here."""

import hashlib


def env_secret(service: str) -> str:
    return f"{service}-env"


def data_claim(service: str) -> str:
    return f"{service}-data"


def headless_service(service: str) -> str:
    return f"{service}-headless"


def config_files(service: str) -> str:
    return f"{service}-config"


def secret_files(service: str) -> str:
    return f"{service}-files"


def cron_job(service: str, schedule: str) -> str:
    return f"{service}-{schedule}"


# The migration's container and the middle of its Job's name; no sidecar or schedule may take it.
MIGRATION = "migrate"


def migration_job(service: str, image: str) -> str:
    """A Job's pod template is immutable and a Job runs once: a new image digest gets a new Job, the
    same image keeps the Job that already ran. <= 40 + 19 characters, within a label value's 63."""
    return f"{service}-{MIGRATION}-{hashlib.sha256(image.encode()).hexdigest()[:10]}"


QUOTA = "quota"
LIMIT_RANGE = "defaults"
DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"
