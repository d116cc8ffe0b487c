"""Assemble the allocation MIP from its mechanism blocks."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyomo.environ as pyo

from talentplan._options import check_choice
from talentplan.data.instance import Instance
from talentplan.data.schema import Objective
from talentplan.data.size import check_fits_in_memory
from talentplan.model.competition import add_competition
from talentplan.model.decisions import add_decisions
from talentplan.model.inflow import add_inflow
from talentplan.model.objectives import add_equity_floor, add_objective, approximation_error
from talentplan.model.placement import add_placement
from talentplan.model.prepare import ModelData, prepare
from talentplan.model.resources import (
    add_budgets,
    add_caps_and_prerequisites,
    add_floors_and_pins,
    add_land_and_cadres,
)
from talentplan.model.retention import add_retention
from talentplan.model.talent import add_balance, add_local_cultivation, add_stock_variables


@dataclass(frozen=True)
class Formulation:
    """A built model with the data it came from.

    Attributes
    ----------
    model
        The Pyomo model.
    data
        Index sets and coefficients (:class:`~talentplan.model.prepare.ModelData`).
    objective
        Name of the objective.
    approximation_error
        Bound on the objective error of the piecewise-linear response curves.
    build_seconds
        Wall time to prepare the data and build the model.
    """

    model: pyo.ConcreteModel
    data: ModelData
    objective: str
    approximation_error: float
    build_seconds: float

    @property
    def maximize(self) -> bool:
        """Whether the objective is maximised (every objective but ``min_cost``)."""
        return self.objective != "min_cost"


def build_model(instance: Instance, objective: str | None = None) -> Formulation:
    """Build the allocation MIP of ``instance``.

    Parameters
    ----------
    instance
        A validated planning instance.
    objective
        ``talent_index``, ``min_cost`` or ``equity``; default: the scenario's.
    """
    start = time.perf_counter()
    objective = check_choice("objective", objective or instance.scenario.objective, Objective)
    n_counties, n_years = len(instance.counties), instance.scenario.n_years
    check_fits_in_memory(n_counties, n_years, f"instance '{instance.scenario.name}'")
    d = prepare(instance)
    m = pyo.ConcreteModel(name=instance.scenario.name)
    add_decisions(m, d)
    add_stock_variables(m, d)
    add_retention(m, d)
    add_inflow(m, d)
    add_competition(m, d)
    add_local_cultivation(m, d)
    add_placement(m, d)
    add_balance(m, d)
    add_budgets(m, d)
    add_land_and_cadres(m, d)
    add_caps_and_prerequisites(m, d)
    add_floors_and_pins(m, d)
    add_equity_floor(m, d, instance.scenario.min_coverage)
    add_objective(m, d, objective)
    return Formulation(
        model=m,
        data=d,
        objective=objective,
        approximation_error=approximation_error(d, objective),
        build_seconds=time.perf_counter() - start,
    )
