"""The report layer: result objects, how they show themselves, and their files.

:func:`~talentplan.report.pipeline.solve` (``tp.solve``) runs the pipeline
data -> model -> solver -> exact replay and returns an
:class:`~talentplan.report.result.AllocationResult`.
"""
