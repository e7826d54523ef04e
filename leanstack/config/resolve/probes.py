"""Probes as a closed union: one check is exactly one of an HTTP GET, a TCP connect or a command
(like cdk8s-plus's Probe.fromHttpGet / fromTcpSocket / fromCommand)."""

from dataclasses import dataclass
from typing import NotRequired, Optional, Sequence

from leanstack.config import schema
from leanstack.config.resolve.parts import default_of


@dataclass(frozen=True)
class HttpProbe:
    """An HTTP GET the container must answer with 2xx/3xx."""

    path: str
    """The request path, e.g. /ready. Required."""
    port: int
    """The container port asked. Required."""


@dataclass(frozen=True)
class TcpProbe:
    """A TCP connection the container must accept."""

    port: int
    """The container port connected to. Required."""


@dataclass(frozen=True)
class ExecProbe:
    """A command run in the container that must exit 0."""

    command: Sequence[str]
    """The argv, e.g. (pg_isready, -U, app). Required."""


@dataclass(frozen=True)
class Probe:
    """One check, exactly one of http, tcp or exec (a closed union, kept as optional fields so a
    component schema can express it); build it with `Probe.http_get`, `.tcp_socket` or `.command`."""

    http: Optional[HttpProbe] = None
    """An HTTP GET. Default None."""
    tcp: Optional[TcpProbe] = None
    """A TCP connect. Default None."""
    exec: Optional[ExecProbe] = None
    """A command. Default None."""

    def __post_init__(self) -> None:
        if sum(kind is not None for kind in (self.http, self.tcp, self.exec)) != 1:
            raise ValueError("a probe is exactly one of http, tcp or exec")

    @classmethod
    def http_get(cls, path: str, port: int) -> "Probe":
        return cls(http=HttpProbe(path, port))

    @classmethod
    def tcp_socket(cls, port: int) -> "Probe":
        return cls(tcp=TcpProbe(port))

    @classmethod
    def command(cls, argv: Sequence[str]) -> "Probe":
        return cls(exec=ExecProbe(tuple(argv)))

    def __str__(self) -> str:
        if self.exec is not None:
            return " ".join(("exec", *self.exec.command))
        return f"http {self.http.path}" if self.http is not None else "tcp"


@dataclass(frozen=True)
class Probes:
    """Startup, readiness and liveness checks, timed by one profile (render.pod.PROBE_PROFILES)."""

    startup: Probe
    """Passes once the process is up; the other two start after it. Required."""
    readiness: Probe
    """Can the pod take traffic now? Failing takes it out of rotation. Required."""
    liveness: Probe
    """Is the process wedged for good? Failing restarts it. Required."""
    profile: NotRequired[str] = default_of(schema.Probes, "profile")
    """Timing: fast, standard or slow. Default standard."""

    def runs_commands(self) -> bool:
        """True when a check starts a process in the container: its CPU and memory count against the
        container's limits, in one burst that must finish within the probe's timeout."""
        return any(check.exec is not None for check in (self.startup, self.readiness, self.liveness))

    @classmethod
    def http(cls, port: int) -> "Probes":
        """The stack file's default checks (GET /health to start and stay alive, /ready to serve) on `port`."""
        return probes(schema.Probes(), port)


def probe(spec: schema.Probes, kind: schema.ProbeKind, port: Optional[int]) -> Probe:
    """One check: a readiness or liveness command overrides the type for that probe alone."""
    command = {"readiness": spec.readiness_command, "liveness": spec.liveness_command}.get(kind) or spec.command
    if command is not None:
        return Probe.command(command)
    if spec.type == "tcp":
        return Probe.tcp_socket(port)
    return Probe.http_get(getattr(spec, f"{kind}_path"), port)


def probes(spec: schema.Probes, port: Optional[int]) -> Probes:
    return Probes(*(probe(spec, kind, port) for kind in ("startup", "readiness", "liveness")), profile=spec.profile)
