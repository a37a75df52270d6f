"""What a bench run times and weighs: wall and CPU seconds per phase, this process's and its children's peak memory."""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Clock", "ChildMemory", "peak_rss_mb"]


class Clock:
    """Wall and CPU seconds of each phase, and the peak memory reached by its end."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.rss: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall[name] = time.perf_counter() - wall
        self.cpu[name] = time.process_time() - cpu
        self.rss[name] = peak_rss_mb()

    def as_json(self) -> dict[str, dict[str, float]]:
        return {
            "seconds": {name: round(value, 3) for name, value in self.wall.items()},
            "cpu_seconds": {name: round(value, 3) for name, value in self.cpu.items()},
            "peak_rss_mb_after": {name: round(value, 1) for name, value in self.rss.items()},
        }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildMemory:
    """The peak memory of this process's children, summed over those alive together.

    Sampled from /proc every 50 ms while the block runs (Linux; elsewhere it stays 0).
    getrusage(RUSAGE_CHILDREN) cannot serve: a child started by fork and exec is
    charged the parent's memory at the exec.
    """

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()

    @contextmanager
    def watching(self) -> Iterator[None]:
        sampler = threading.Thread(target=self._sample, name="ggzledger-bench-memory", daemon=True)
        self._stop.clear()
        sampler.start()
        try:
            yield
        finally:
            self._stop.set()
            sampler.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            total = 0
            for child in _children():
                try:
                    with open(f"/proc/{child}/status", "rb") as status:
                        for line in status:
                            if line.startswith(b"VmHWM:"):
                                total += int(line.split()[1])
                                break
                except (OSError, ValueError):  # the process ended meanwhile
                    continue
            self.peak_mb = max(self.peak_mb, total / 1024)


def _children() -> list[str]:
    """The pids of this process's children, as the kernel lists them per thread.

    Cheap on purpose: the sampler shares the interpreter with what it measures (a first
    version parsed every process's status file twenty times a second, which slowed the
    rebuild it was watching by a fifth).
    """
    pids: list[str] = []
    for listing in Path("/proc/self/task").glob("*/children"):
        try:
            pids.extend(listing.read_text().split())
        except OSError:
            continue
    return pids
