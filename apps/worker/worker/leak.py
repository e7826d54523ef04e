"""A test-only memory leak, off by default: how the e2e suite gets the kernel to OOM-kill a real
worker at its memory limit (leanstack rightsize must then see the kill and raise memory).

WORKER_TEST_LEAK_MIB_PER_S=<rate> makes every loop turn hold on to more memory, growing the
working set at about that rate from the start; unset or 0 (the default) leaks nothing.
"""

from __future__ import annotations

import time

MIB = 2**20


class Leak:
    def __init__(self, mib_per_second: float, clock=time.monotonic):
        if mib_per_second < 0:
            raise ValueError(f"WORKER_TEST_LEAK_MIB_PER_S must be >= 0, got {mib_per_second}")
        self.rate = mib_per_second * MIB
        self.clock = clock
        self.started = clock()
        self.held: list[bytearray] = []
        self.bytes = 0

    def grow(self) -> int:
        """Hold what the rate asks for by now (zero-filled, so every page is touched); bytes held."""
        due = int(self.rate * (self.clock() - self.started)) - self.bytes
        if due > 0:
            self.held.append(bytearray(due))
            self.bytes += due
        return self.bytes
