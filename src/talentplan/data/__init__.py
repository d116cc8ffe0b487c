"""Planning instances: schema, validation, reading and writing.

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
