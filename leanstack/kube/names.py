"""Names derived from a service's name: every object that belongs to a service is named here; and
the shapes Kubernetes allows names to have."""

import hashlib

# RFC 1123 label (namespaces, most object names; may start with a digit) and RFC 1035 label (Service
# names; starts with a letter). Stack-file names are 1035 labels, so each is a valid Service name too.
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_1123_LABEL = f"^{_LABEL}$"
DNS_1035_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
# An Ingress host as the API server validates it (RFC 1123 subdomain): dot-separated labels, none empty.
DNS_1123_SUBDOMAIN = rf"^{_LABEL}(\.{_LABEL})*$"


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


LIMIT_RANGE = "defaults"
DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"


def quota(cap: str) -> str:
    """One ResourceQuota per cap: quota-requests-cpu, quota-pods, quota-services-nodeports, ..."""
    return f"quota-{cap.replace('.', '-')}"
