"""The solver layer: compile the model to matrices, run HiGHS, map its status, read back.

:func:`~talentplan.solver.api.solve_instance` returns a
:class:`~talentplan.solver.api.Solution` (planner tables and the solver's account);
:mod:`~talentplan.solver.explain` names the rules behind an infeasible instance.
"""
