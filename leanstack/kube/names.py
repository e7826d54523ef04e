"""Names derived from a service's name: every object that belongs to a service is named here."""


def env_secret(service: str) -> str:
    return f"{service}-env"


def data_claim(service: str) -> str:
    return f"{service}-data"


QUOTA = "quota"
LIMIT_RANGE = "defaults"
DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"
