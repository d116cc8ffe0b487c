"""Named exceptions and warnings of talentplan, all in one place.

Every message says what was expected and how to fix the input.
"""

from __future__ import annotations

__all__ = [
    "CalibrationError",
    "CollinearityError",
    "EstimationWarning",
    "InfeasiblePlanError",
    "InstanceError",
    "InstanceValidationError",
    "MissingValuesWarning",
    "NoSolutionError",
    "NotEstimableError",
    "OptionError",
    "PanelDataError",
    "ParameterPathError",
    "ScenarioFileError",
    "SingularWeightMatrixError",
    "SolverError",
    "SpecificationWarning",
    "TalentPlanError",
    "TalentPlanWarning",
    "TooFewClustersError",
    "TooFewEntitiesError",
    "TooManyInstrumentsWarning",
    "UnbalancedPanelError",
    "UnbalancedPanelWarning",
]


class TalentPlanError(Exception):
    """Base class of every error raised by talentplan."""


class TalentPlanWarning(UserWarning):
    """Base class of every warning issued by talentplan."""


class OptionError(TalentPlanError, ValueError):
    """An option given to a function or command is not admissible.

    Parameters
    ----------
    message
        Names the option, the value given and what is admissible.
    option, value, expected
        The option's name as the function spells it, the value given and what is
        admissible, when known (the command line restates them with its own flag names).
    """

    def __init__(
        self,
        message: str,
        *,
        option: str | None = None,
        value: object = None,
        expected: str | None = None,
    ) -> None:
        self.option = option
        self.value = value
        self.expected = expected
        super().__init__(message)


class ParameterPathError(OptionError):
    """A dotted path names no parameter of the instance.

    Paths look like ``scenario.discount_rate`` or ``programs.cash_subsidy.unit_cost``
    (:mod:`talentplan.data.edit`). The message says which part of the path is wrong and
    what it could be; ``option``, ``value`` and ``expected`` are set as for
    :class:`OptionError`.
    """


# --- planning instances -------------------------------------------------------------------


class InstanceError(TalentPlanError, ValueError):
    """A planning instance could not be read or is inconsistent.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file, row, column, value
        Where the problem is: the file (or workbook sheet), the row as a spreadsheet shows
        it (the header is row 1, the first data row is row 2), the column and the
        offending value, when they are known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.message = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class InstanceValidationError(InstanceError):
    """Several problems found while validating an instance; ``errors`` lists them all."""

    def __init__(self, errors: list[InstanceError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        more = len(self.errors) - 1
        lines = [str(e) for e in self.errors[:20]]
        if more >= 20:
            lines.append(f"... and {more - 19} more")
        message = f"{len(self.errors)} problem(s) in the instance:\n  " + "\n  ".join(lines)
        TalentPlanError.__init__(self, message)
        self.file, self.row = first.file, first.row
        self.column, self.value = first.column, first.value
        self.message = message

    def _format(self) -> str:  # pragma: no cover - message is set directly
        return self.message


# --- solving ------------------------------------------------------------------------------


class SolverError(TalentPlanError, RuntimeError):
    """The solver failed in a way that is not a property of the instance."""


class NoSolutionError(TalentPlanError, RuntimeError):
    """The solver stopped without any feasible plan (for example at a time limit).

    The message says what to try next: a longer time limit, a larger gap, or a
    smaller instance.
    """


class InfeasiblePlanError(NoSolutionError):
    """No plan satisfies every budget, quota, floor and pin together.

    Attributes
    ----------
    explanation
        The conflicting rules in planner terms, one per line.
    """

    def __init__(self, message: str, explanation: str) -> None:
        super().__init__(f"{message}\n{explanation}")
        self.explanation = explanation


# --- saved scenarios ----------------------------------------------------------------------


class ScenarioFileError(TalentPlanError, ValueError):
    """A file of a saved scenario's folder cannot be read as what it should hold.

    For example a ``row.json`` edited by hand that is no longer valid JSON, or whose
    ``objective`` is a word. The message names the file and what is wrong with it.

    Parameters
    ----------
    file
        The file, as the folder shows it (``scenarios/KEY/row.json``).
    problem
        What is wrong: ``not valid JSON (line 3, column 5)``.

    Examples
    --------
    >>> str(ScenarioFileError("scenarios/0123/row.json", "not valid JSON (line 3, column 5)"))
    'scenarios/0123/row.json: not valid JSON (line 3, column 5)'
    """

    def __init__(self, file: str, problem: str) -> None:
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: {problem}")


# --- calibration --------------------------------------------------------------------------


class CalibrationError(TalentPlanError, ValueError):
    """An estimator could not be set up or fitted."""


class PanelDataError(CalibrationError):
    """Panel data are malformed: duplicate (entity, time) pairs, non-numeric columns, ...

    Parameters
    ----------
    message
        What is wrong and what was expected.
    column, value
        The offending column and (one of) its offending value(s), when known.
    """

    def __init__(self, message: str, *, column: str | None = None, value: object = None) -> None:
        self.column = column
        self.value = value
        super().__init__(message)


class UnbalancedPanelError(PanelDataError):
    """An estimator that needs a balanced panel got entities missing some periods.

    The message counts the entities that miss a period and shows how to keep only the
    entities observed in every period.
    """


class TooFewEntitiesError(CalibrationError):
    """Too few entities (groups) for the estimator requested.

    Dynamic panel GMM rests on many entities (its weights and robust covariance sum
    moments over entities); random effects need more entities than regressors to
    estimate the variance of the effects. The message gives the count found and the
    count needed.
    """


class SingularWeightMatrixError(CalibrationError):
    """A GMM weight matrix is singular, so the estimates would depend on an arbitrary inverse.

    The message names the matrix and says how to remove the redundant instruments.
    """


class NotEstimableError(CalibrationError):
    """Nothing that enters a requested estimate could be estimated.

    For example every group-time ATT of an aggregation is NaN; the message says which
    cells and why.
    """


class CollinearityError(CalibrationError):
    """The design matrix is rank deficient; the message names the collinear columns."""


class TooFewClustersError(CalibrationError):
    """Too few clusters for a clustered covariance estimator."""


class MissingValuesWarning(TalentPlanWarning):
    """Rows with missing values were dropped; the message counts them."""


class UnbalancedPanelWarning(TalentPlanWarning):
    """The panel is unbalanced; the estimator handles it and says so."""


class EstimationWarning(TalentPlanWarning):
    """Part of the data or of an estimate was dropped or could not be computed.

    The message says which units or cells and why (for example units already treated in
    the first period, or a group-time cell without overlap).
    """


class TooManyInstrumentsWarning(EstimationWarning):
    """A GMM estimator has more instruments than groups (entities).

    The two-step weights then rest on a generalized inverse and the Hansen test is
    weakened (its p-value drifts to 1 whatever the instruments' validity; Roodman 2009).
    The message gives both counts and suggests ``collapse=True`` or a lag limit.
    """


class SpecificationWarning(TalentPlanWarning):
    """A specification test needed a fallback (e.g. a generalized inverse); it says which."""
