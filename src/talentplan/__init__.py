"""talentplan: plan talent policy in underdeveloped regions.

Mixed-integer allocation of fiscal, land, platform and cadre budgets across counties,
talent programs and years (Pyomo + HiGHS), and panel-data calibration of the programs'
response parameters.
"""

from __future__ import annotations

__version__ = "0.1.0"
