"""The data layer: planning instances, their schema and validation, files, datasets.

Everything above it (model, solver, report, scenarios, calibration) reads instances
from here; this layer imports nothing of the others. It also reads and applies
calibrated response parameters (:mod:`talentplan.data.parameters`,
:mod:`talentplan.data.responses`), the one object calibration hands to planning.

Examples
--------
>>> from talentplan.data import load_instance
>>> inst = load_instance("qingyuan")
>>> inst.scenario.name
'qingyuan'
"""

from __future__ import annotations

from talentplan.data.instance import Instance, PolicyFloor, Scenario
from talentplan.data.io import load_instance, write_instance

__all__ = ["Instance", "PolicyFloor", "Scenario", "load_instance", "write_instance"]
