"""Machinery the estimator families share: panel validation and the results base class.

:mod:`~talentplan.calibrate.shared.validation` indexes, checks and cleans a panel once,
at the boundary (:func:`prepare_panel`, :func:`set_panel_index`, :func:`check_rank`,
:func:`transform_design`, ...), raising the named errors of :mod:`talentplan.errors`;
:mod:`~talentplan.calibrate.shared.results` holds :class:`EstimationResults`, from which
every family's results derive their inference; :mod:`~talentplan.calibrate.shared.tables`
holds the column vocabulary of ``tidy()``, the :class:`Summary` object and
:func:`compare`, which lays results side by side for a paper.
"""
