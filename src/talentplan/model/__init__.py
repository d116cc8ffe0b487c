"""The model layer: the allocation MIP, one Pyomo block per mechanism of the paper.

:func:`~talentplan.model.build.build_model` assembles decisions, retention, inflow and
platforms, talent stocks and cultivation, resources and rules, and the objective; each
module's docstring gives its equations.
"""
