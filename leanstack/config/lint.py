"""Advice on a valid stack config: what works but probably isn't meant (a non-fatal warning each).

The program prints them with pulumi.log.warn, the `leanstack` tools on stderr; neither stops.
"""

from __future__ import annotations

from leanstack.config.errors import Problem
from leanstack.config.resolve import probe
from leanstack.config.schema import StackConfig


def warnings(config: StackConfig) -> list[Problem]:
    found = []
    for name, service in config.services.items():
        check = probe(service.probes, "readiness", service.probe_port)
        if check == probe(service.probes, "liveness", service.probe_port):
            found.append(Problem(
                f"services.{name}.probes",
                f"readiness and liveness run the same check ({check}): a pod that is "
                "only busy gets restarted instead of taken out of rotation; give readiness its own check "
                "(readiness_path, readiness_command) or liveness a more lenient one (liveness_command)"))
    return found
