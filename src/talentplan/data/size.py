"""How much memory the allocation model of an instance will need, before it is built.

Measured on synthetic instances (5 years; building the Pyomo model and compiling it to
matrices): about 245 MB at 100 counties and 432 MB at 300, so about 0.19 MB per
county-year above a fixed 150 MB. The solver needs about as much again. Instances whose
estimate exceeds the machine's memory are refused with the estimate in the message,
instead of growing until the machine runs out.
"""

from __future__ import annotations

import os

from talentplan.errors import InstanceError

__all__ = ["check_fits_in_memory", "estimate_model_bytes", "physical_memory_bytes"]

MB = 1024**2
BYTES_PER_COUNTY_YEAR = 0.19 * MB
FIXED_BYTES = 150 * MB
SOLVER_FACTOR = 2.0
"""Model and solver together: the built model plus HiGHS's copy and work space."""


def estimate_model_bytes(n_counties: int, n_years: int) -> float:
    """Estimate the memory (bytes) to build, compile and solve a model of this size.

    Examples
    --------
    >>> round(estimate_model_bytes(2850, 5) / 1024**3, 1)
    5.6
    """
    return SOLVER_FACTOR * (FIXED_BYTES + BYTES_PER_COUNTY_YEAR * n_counties * n_years)


def physical_memory_bytes() -> float:
    """Return the machine's physical memory in bytes (infinite where it cannot be read)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def check_fits_in_memory(n_counties: int, n_years: int, what: str) -> None:
    """Raise :class:`~talentplan.errors.InstanceError` when the model cannot fit in memory."""
    need, have = estimate_model_bytes(n_counties, n_years), physical_memory_bytes()
    if need > have:
        raise InstanceError(
            f"{what}: {n_counties:,} counties x {n_years} years would need about "
            f"{need / 1024**3:,.1f} GB to build and solve, and this machine has "
            f"{have / 1024**3:,.1f} GB; plan fewer counties or years, or split the area"
        )
