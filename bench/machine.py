"""The machine a benchmark ran on, printed with its figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> str:
    """CPU model, cores usable by this process, 1-minute load average, Python.

    A load average above the core count means other jobs shared the cores: timings (real-time
    factors, latencies) are then pessimistic, while quality figures do not depend on it.
    """
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = cpuinfo.read_text().splitlines()
        names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
        model = names[0] if names else model
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{model}; {usable} usable cores of {os.cpu_count()}; load average {load()}; "
        f"Python {platform.python_version()}"
    )


def load() -> str:
    """The 1-minute load average, or « unknown » where the platform has none."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"
