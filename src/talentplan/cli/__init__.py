"""The ``talentplan`` command line: every command, with its options and exit codes.

Exit codes (:class:`~talentplan.cli.screen.ExitCode`): 0 a plan was found (optimal
within the gap, or the best at the time limit); 1 no plan (infeasible, or none found in
time); 2 bad input; 3 solver failure; 4 the output cannot be written (checked before
any work); 130 interrupted (Ctrl-C or SIGTERM; the best plan so far, or for
``alternatives`` the ranges so far and for ``sensitivity`` the rows so far, is written,
marked ``interrupted``; for ``sweep`` the scenarios finished, kept for the next run);
5 ``replicate`` found an input changed or an output that differs. Every command that
writes an ``--out`` folder writes ``manifest.json`` into it last
(:mod:`talentplan.cli.manifest`).
Heavy libraries are imported inside the commands, so
``talentplan --help`` is instant.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from talentplan.cli.folders import (
    check_out_file,
    check_out_folder,
    make_out_folder,
    write_command_set,
)
from talentplan.cli.interrupts import stop_on_signals
from talentplan.cli.manifest import MANIFEST, record_run
from talentplan.cli.screen import ExitCode, err, fail, flag_message, note, out
from talentplan.cli.solving import (
    exit_on_named_errors,
    finish_run,
    progress_line,
    status_updater,
    sweep_line,
    write_result,
)
from talentplan.solver.deadline import WRITE_SECONDS as WRITE_SECONDS
from talentplan.solver.deadline import WRITE_SECONDS_PER_COUNTY as WRITE_SECONDS_PER_COUNTY

if TYPE_CHECKING:
    from talentplan.data.instance import Instance
    from talentplan.data.parameters import ResponseParameters
    from talentplan.solver.highs import Progress

app = typer.Typer(
    help="Plan talent policy in underdeveloped regions: allocate programs with a MIP, "
    "score plans, calibrate response parameters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

InstanceArg = Annotated[
    str,
    typer.Argument(
        help="A bundled name (qingyuan, northern_guangdong), a folder, an .xlsx "
        "workbook, or synthetic:N[:SEED]."
    ),
]
ThreadsOption = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(help="Solver threads (with --method decomposition: worker processes)."),
]
GapOfEachSolve = Annotated[float, typer.Option(help="Relative gap of each solve.")]
QuietRunOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress line and no table.")
]


def _load(source: str, budget_scale: float = 1.0) -> Instance:
    from talentplan.data.io import load_instance
    from talentplan.errors import InstanceError, OptionError

    try:
        instance = load_instance(source)
    except (InstanceError, FileNotFoundError) as exc:
        fail("error", str(exc), ExitCode.BAD_INPUT)
    if budget_scale != 1.0:
        try:
            instance = instance.scale_budget(budget_scale)
        except OptionError as exc:
            fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    return instance


@app.command()
def solve(
    ctx: typer.Context,
    instance: InstanceArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the results.")] = Path("out"),
    time_limit: Annotated[
        float | None,
        typer.Option(
            help="Seconds for the whole command up to the result files (build, solve, "
            "prices, simulation); the best plan found by then is returned with its gap."
        ),
    ] = None,
    mip_gap: Annotated[float, typer.Option(help="Relative optimality gap to stop at.")] = 1e-4,
    threads: ThreadsOption = None,
    objective: Annotated[
        str | None,
        typer.Option(help="talent_index, min_cost or equity (default: the scenario's)."),
    ] = None,
    budget_scale: Annotated[
        float, typer.Option(help="Multiply every budget by this factor.")
    ] = 1.0,
    step_values: Annotated[
        bool,
        typer.Option(
            "--step-values",
            help="Also value one more step of each fully used land or cadre limit "
            "(one re-solve each; shadow_prices.csv columns step, step_value*).",
        ),
    ] = False,
    warm_start: Annotated[
        bool,
        typer.Option(
            "--warm-start/--no-warm-start",
            help="Start the solver from a feasible plan found by a fast heuristic.",
        ),
    ] = True,
    solver_log: Annotated[
        bool, typer.Option("--solver-log", help="Show HiGHS's own log on stderr.")
    ] = False,
    method: Annotated[
        str,
        typer.Option(
            help="auto, monolithic or decomposition (by county, on a process pool; "
            "--threads worker processes). auto decomposes from 100 counties."
        ),
    ] = "auto",
    build: Annotated[
        str,
        typer.Option(
            help="How the solver's matrices are made: pyomo (Pyomo's compiler), arrays "
            "(the same matrices straight from the data, many times faster on large "
            "instances) or auto (arrays from 100 counties)."
        ),
    ] = "pyomo",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress line and no summary table.")
    ] = False,
) -> None:
    """Find the best allocation and write its result files into --out.

    The files are allocation.csv, talent.csv, summary.json and report.html (and
    shadow_prices.csv, budget_use.csv). Ctrl-C or SIGTERM stops the solver and writes
    the best plan so far, marked interrupted; Ctrl-C again quits at once. A plan whose
    gap is above 1% comes with a warning on stderr (and gap_warning in summary.json).
    """
    # --time-limit counts from here: loading the libraries, reading the instance and
    # writing the files are in it.
    from talentplan.solver.deadline import Deadline

    deadline = Deadline.up_to_files(time_limit)

    from talentplan._files import atomic_write_text
    from talentplan.errors import InfeasiblePlanError, OptionError
    from talentplan.report.pipeline import solve as solve_instance
    from talentplan.report.result import RESULT_FILES
    from talentplan.solver.api import SolveOptions
    from talentplan.solver.status import SolveStatus

    check_out_folder(out_dir, "solve")
    try:
        options = SolveOptions(
            time_limit,
            mip_gap,
            threads,
            objective,
            step_values,
            warm_start,
            solver_log,
            method,
            build,
        )
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    inst = _load(instance, budget_scale)
    deadline.keep_for_files(len(inst.counties))
    make_out_folder(out_dir)
    # With HiGHS's log on stderr, a status line redrawn there would garble it.
    status = None if quiet or solver_log else err.status(f"building {inst.scenario.name} ...")

    def show(p: Progress) -> None:
        if status is not None:
            status.update(progress_line(p, inst.scenario.name))

    def clear(names: tuple[str, ...]) -> None:
        for name in names:
            (out_dir / name).unlink(missing_ok=True)

    def explain(exc: InfeasiblePlanError) -> str:
        explanation = exc.explanation
        if budget_scale != 1.0:
            explanation += f"\n(every budget was scaled by {budget_scale:g} with --budget-scale)"
        clear((*RESULT_FILES, MANIFEST))
        atomic_write_text(out_dir / "infeasibility.txt", explanation + "\n")
        return f"{explanation}\n(written to {out_dir / 'infeasibility.txt'})"

    with stop_on_signals() as stop:
        with exit_on_named_errors(
            stop,
            status,
            explain=explain,
            clear=lambda: clear((*RESULT_FILES, MANIFEST, "infeasibility.txt")),
        ):
            result = solve_instance(
                inst,
                **asdict(options),
                progress=show,
                stop=stop,
                deadline=deadline,
                compare=True,
            )
        write_result(result, out_dir)
        (out_dir / "infeasibility.txt").unlink(missing_ok=True)
        record_run(ctx, out_dir, RESULT_FILES, solver_options=asdict(options))
    if not quiet:
        out.print(str(result))
        out.print(f"\nwritten to {out_dir}/: " + ", ".join(RESULT_FILES))
    for skipped in result.summary["skipped"]:
        note("note", f"{skipped} (to keep --time-limit)")
    if result.summary["gap_warning"]:
        note("warning", result.summary["gap_warning"])
    if result.status == SolveStatus.INTERRUPTED:
        fail(
            "interrupted",
            f"the best plan so far is written to {out_dir}/ with status 'interrupted'",
            ExitCode.INTERRUPTED,
        )


@app.command()
def frontier(
    ctx: typer.Context,
    instance: InstanceArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for frontier.csv.")] = Path("out"),
    points: Annotated[int, typer.Option(help="Number of points on the frontier.")] = 5,
    time_limit: Annotated[float | None, typer.Option(help="Seconds per solve.")] = None,
    mip_gap: GapOfEachSolve = 1e-3,
) -> None:
    """Trace the efficiency-equity frontier (talent index vs smallest county coverage)."""
    from talentplan.errors import InstanceError, NoSolutionError, OptionError
    from talentplan.scenarios.frontier import pareto_frontier

    check_out_folder(out_dir, "frontier")
    inst = _load(instance)
    try:
        with err.status(f"tracing the frontier of {inst.scenario.name} ..."):
            front = pareto_frontier(inst, points, time_limit=time_limit, mip_gap=mip_gap)
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    except InstanceError as exc:
        fail("error", str(exc), ExitCode.BAD_INPUT)
    except NoSolutionError as exc:
        fail("no plan", str(exc), ExitCode.NO_PLAN)
    summary = {
        "command": "frontier",
        "instance": inst.scenario.name,
        "instance_hash": inst.hash(),
        "points": len(front.points),
        "mip_gap": mip_gap,
        "time_limit": time_limit,
    }
    write_command_set(out_dir, ("frontier.csv", front.points.to_csv(index=False)), summary)
    record_run(
        ctx,
        out_dir,
        ("frontier.csv", "summary.json"),
        solver_options={"time_limit": time_limit, "mip_gap": mip_gap},
    )
    out.print(str(front))


@app.command()
def alternatives(
    ctx: typer.Context,
    instance: InstanceArg,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for alternatives.csv and summary.json.")
    ] = Path("out"),
    slack: Annotated[
        float, typer.Option(help="Admit plans within this share of the optimum (0.01: 1%).")
    ] = 0.01,
    by: Annotated[
        str, typer.Option(help="Group spending by program, or by program,county.")
    ] = "program,county",
    time_limit: Annotated[
        float | None,
        typer.Option(help="Seconds per solve; a stopped solve keeps its incumbent and bound."),
    ] = None,
    mip_gap: GapOfEachSolve = 1e-4,
    threads: ThreadsOption = None,
    quiet: QuietRunOption = False,
) -> None:
    """Find how little and how much each program can spend among near-optimal plans.

    Solves the optimum, then minimises and maximises each group's spending over the
    plans within --slack of it (two solves per group) and writes alternatives.csv and
    summary.json into --out. Ctrl-C or SIGTERM stops the run and writes the ranges
    computed so far, marked interrupted; Ctrl-C again quits at once.
    """
    from talentplan._options import check_number
    from talentplan.errors import OptionError
    from talentplan.scenarios.alternatives import ALTERNATIVES_FILES, check_by
    from talentplan.scenarios.alternatives import alternatives as near_optimal
    from talentplan.solver.api import SolveOptions

    check_out_folder(out_dir, "alternatives")
    try:
        options = SolveOptions(time_limit, mip_gap, threads)
        check_number("slack", slack, low=0, high=1, high_open=True)
        keys = check_by(by)
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    inst = _load(instance)
    make_out_folder(out_dir)
    status = None if quiet else err.status(f"building {inst.scenario.name} ...")

    show = status_updater(status, inst.scenario.name)
    with stop_on_signals() as stop:
        with exit_on_named_errors(stop, status):
            result = near_optimal(
                inst,
                slack=slack,
                by=keys,
                time_limit=options.time_limit,
                mip_gap=options.mip_gap,
                threads=options.threads,
                progress=show,
                stop=stop,
            )
        write_result(result, out_dir)
        record_run(ctx, out_dir, ALTERNATIVES_FILES, solver_options=asdict(options))
    finish_run(
        result,
        out_dir,
        ALTERNATIVES_FILES,
        quiet=quiet,
        failed="solve(s) failed; their ranges rest on the plans found and on the "
        "decisions' own bounds (see low_status and high_status)",
        done="the ranges computed",
    )


@app.command()
def sensitivity(
    ctx: typer.Context,
    instance: InstanceArg,
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for sensitivity.csv, spend.csv and summary.json."),
    ] = Path("out"),
    factor: Annotated[
        float,
        typer.Option(help="Scale each response value by 1 - F and 1 + F (0.5: x0.5 and x1.5)."),
    ] = 0.5,
    parameter: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--parameter",
            "-p",
            help="Only this response row, as program:talent_type:effect (- for a blank "
            "type); repeat for several. Default: every row.",
        ),
    ] = None,
    by: Annotated[
        str, typer.Option(help="Compare spending by program, or by program,county.")
    ] = "program",
    time_limit: Annotated[
        float | None,
        typer.Option(help="Seconds per solve; a stopped solve keeps its plan and gap."),
    ] = None,
    mip_gap: GapOfEachSolve = 1e-4,
    threads: ThreadsOption = None,
    quiet: QuietRunOption = False,
) -> None:
    """Re-solve with each response value scaled down and up; report how the plan moves.

    Solves the plan, then, for every response row and each scale, the plan with that one
    value scaled, and writes per row the objective change, the share of spending that
    moves (plan_shift) and whether the move exceeds what the solves' gaps allow
    (significant) to sensitivity.csv, the spending by group to spend.csv, and
    summary.json into --out. Ctrl-C or SIGTERM stops the run and writes the rows done so
    far, marked interrupted; Ctrl-C again quits at once.
    """
    from talentplan.errors import OptionError
    from talentplan.scenarios.alternatives import check_by
    from talentplan.scenarios.sensitivity import (
        SENSITIVITY_FILES,
        check_factor,
        check_parameters,
    )
    from talentplan.scenarios.sensitivity import sensitivity as scaled
    from talentplan.solver.api import SolveOptions

    check_out_folder(out_dir, "sensitivity")
    try:
        options = SolveOptions(time_limit, mip_gap, threads)
        keys = check_by(by)
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    try:
        check_factor(factor)
    except OptionError as exc:  # "factor" is --budget-scale elsewhere
        fail("error", f"--factor {exc.value}: expected {exc.expected}", ExitCode.BAD_INPUT)
    inst = _load(instance)
    try:
        check_parameters(inst, parameter or None)
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    make_out_folder(out_dir)
    status = None if quiet else err.status(f"building {inst.scenario.name} ...")

    show = status_updater(status, inst.scenario.name)
    with stop_on_signals() as stop:
        with exit_on_named_errors(stop, status):
            result = scaled(
                inst,
                factor=factor,
                parameters=parameter or None,
                by=keys,
                time_limit=options.time_limit,
                mip_gap=options.mip_gap,
                threads=options.threads,
                progress=show,
                stop=stop,
            )
        write_result(result, out_dir)
        record_run(ctx, out_dir, SENSITIVITY_FILES, solver_options=asdict(options))
    finish_run(
        result,
        out_dir,
        SENSITIVITY_FILES,
        quiet=quiet,
        failed="re-solve(s) found no plan (infeasible or failed); see the status column "
        "of sensitivity.csv",
        done="the rows computed",
    )


@app.command()
def sweep(
    ctx: typer.Context,
    instance: InstanceArg,
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for sweep.csv, summary.json and scenarios/KEY/ (the plans)."
        ),
    ] = Path("out"),
    budget_scale: Annotated[
        str,
        typer.Option(help="Budget scales: START:STOP:N (N evenly spaced) or V1,V2,..."),
    ] = "1",
    objective: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Objectives, comma-separated (default: the scenario's)."),
    ] = None,
    min_coverage: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Equity floors: START:STOP:N or V1,V2,... (default: the scenario's)."),
    ] = None,
    param: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--param",
            help="An instance parameter and its values, dotted.path=V1,V2,... "
            "(scenario.KEY, TABLE.COLUMN or TABLE.KEY.COLUMN); repeat for several.",
        ),
    ] = None,
    workers: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Worker processes, one solver thread each (default: every core)."),
    ] = None,
    draws: Annotated[
        int,
        typer.Option(
            help="Solve every scenario under this many draws of the --params response "
            "parameters (0: the instance's own responses)."
        ),
    ] = 0,
    params: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--params",
            help="Response parameters with their covariance (talentplan calibrate), for --draws.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the --draws.")] = 0,
    scheduler: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Run on this Dask scheduler (tcp://host:8786) instead of local processes; "
            "needs the optional extra dask, and --out on a file system the workers share."
        ),
    ] = None,
    dask_workers: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            help="Start a Dask LocalCluster of this many one-thread workers on 127.0.0.1 "
            "and run on it (needs the optional extra dask)."
        ),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(help="Seconds per scenario; a stopped solve keeps its plan and gap."),
    ] = None,
    mip_gap: GapOfEachSolve = 1e-4,
    reuse: Annotated[
        bool,
        typer.Option(
            help="Solve each worker's next scenario in the solver of its last one, changed "
            "in place (--no-reuse: build every scenario's solver afresh)."
        ),
    ] = True,
    quiet: QuietRunOption = False,
) -> None:
    """Solve every combination of the values given; one row and one plan per scenario.

    Writes sweep.csv and sweep.parquet (one row per scenario: the values varied, status,
    objective, bound, gap, timings, spend by program and by county, final useful talent)
    and summary.json into --out, and each plan, as solve --out writes it, into
    --out/scenarios/KEY/.
    Scenarios already solved there are not solved again: run the same command after an
    interruption and only the rest are solved. Ctrl-C or SIGTERM stops the sweep and
    writes the table of the scenarios finished, marked interrupted; Ctrl-C again quits at
    once.
    """
    from talentplan.cli.manifest import forget_manifest
    from talentplan.errors import CalibrationError, OptionError
    from talentplan.scenarios.grid import make_grid, parse_list, parse_range
    from talentplan.scenarios.sweep import SCENARIOS, SWEEP_FILES, SweepProgress
    from talentplan.scenarios.sweep import sweep as run_sweep
    from talentplan.solver.api import SolveOptions

    check_out_folder(out_dir, "sweep")
    try:
        options = SolveOptions(time_limit, mip_gap, 1)
        scales = parse_range("budget_scale", budget_scale)
        floors = None if min_coverage is None else parse_range("min_coverage", min_coverage)
        objectives = None if objective is None else parse_list(objective)
        dotted = dict(_parse_param(p) for p in param or [])
        from talentplan._options import check_number

        if workers is not None:
            check_number("workers", workers, low=1, integer=True)
        check_number("draws", draws, low=0, integer=True)
        if dask_workers is not None:
            check_number("dask_workers", dask_workers, low=1, integer=True)
        if scheduler is not None and dask_workers is not None:
            raise OptionError(
                "--dask-workers: give either --scheduler (a running cluster) or "
                "--dask-workers (a local one), not both.",
                option="dask_workers",
                value=dask_workers,
                expected="no --scheduler with it",
            )
        if (draws > 0) != (params is not None):
            raise OptionError(
                "--draws: --draws N (N >= 1) and --params FILE go together.",
                option="draws",
                value=draws,
                expected="--draws N with --params FILE",
            )
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    drawn = None if params is None else _read_parameters(params).draw(draws, seed)
    inst = _load(instance)
    try:
        make_grid(
            inst,
            budget_scale=scales,
            objective=objectives,
            min_coverage=floors,
            params=dotted,
            draws=drawn,
        )
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    executor = None
    if scheduler is not None or dask_workers is not None:
        from talentplan.scenarios.executors import DaskExecutor

        try:
            if dask_workers is not None:
                # Dask's log follows --verbose like ours: without it a Ctrl-C would
                # print the INFO tracebacks of the cluster's comms closing.
                level = logging.getLogger().getEffectiveLevel()
                executor = DaskExecutor.local(dask_workers, log_level=level)
            else:
                executor = DaskExecutor(scheduler)
        except OptionError as exc:
            fail("error", str(exc), ExitCode.BAD_INPUT)
        except (OSError, TimeoutError) as exc:
            fail("error", f"--scheduler {scheduler}: cannot connect ({exc})", ExitCode.BAD_INPUT)
    # The sweep creates --out once every scenario's instance is valid.
    status = None if quiet else err.status(f"sweeping {inst.scenario.name} ...")

    def show(p: SweepProgress) -> None:
        if status is not None:
            status.update(sweep_line(p, inst.scenario.name))

    keeps = "the scenarios finished so far are kept, and running it again solves the rest"
    forget_manifest(out_dir)
    with stop_on_signals(keeps) as stop:
        with exit_on_named_errors(stop, status):
            try:
                result = run_sweep(
                    inst,
                    out_dir,
                    budget_scale=scales,
                    objective=objectives,
                    min_coverage=floors,
                    params=dotted,
                    draws=drawn,
                    workers=workers,
                    time_limit=time_limit,
                    mip_gap=mip_gap,
                    executor=executor,
                    reuse=reuse,
                    progress=show,
                    stop=stop,
                )
            except CalibrationError as exc:
                fail("error", f"--params {params}: {exc}", ExitCode.BAD_INPUT)
            except OSError as exc:
                fail("cannot write", f"--out {out_dir}: {exc}", ExitCode.OUTPUT)
            finally:
                if executor is not None:
                    executor.close()
        record_run(
            ctx,
            out_dir,
            (*SWEEP_FILES, SCENARIOS),
            solver_options={**asdict(options), "threads": 1, "workers": workers},
            seed=seed if draws else None,
        )
    finish_run(
        result,
        out_dir,
        SWEEP_FILES,
        quiet=quiet,
        failed="scenario(s) have no plan (infeasible, solver error, or a worker that died "
        "twice); see the status and reason columns of sweep.csv",
        done="the scenarios finished (run the same command again to solve the rest)",
    )


def _read_parameters(path: Path) -> ResponseParameters:
    """Read ``--params``; a missing or malformed file exits 2 with the reason."""
    from talentplan.data.parameters import ResponseParameters
    from talentplan.errors import CalibrationError

    try:
        return ResponseParameters.from_json(path)
    except FileNotFoundError:
        fail("error", f"--params {path}: no such file", ExitCode.BAD_INPUT)
    except CalibrationError as exc:
        fail("error", f"--params {exc}", ExitCode.BAD_INPUT)


def _parse_param(text: str) -> tuple[str, tuple[str, ...]]:
    """Split ``--param dotted.path=V1,V2,...`` into the path and its values."""
    from talentplan.errors import OptionError
    from talentplan.scenarios.grid import parse_list

    path, sign, values = text.partition("=")
    if not sign or not path.strip() or not values.strip():
        raise OptionError(
            f"params={text!r} is not admissible; expected dotted.path=V1,V2,...",
            option="params",
            value=text,
            expected="dotted.path=V1,V2,... (e.g. scenario.discount_rate=0.03,0.05)",
        )
    return path.strip(), parse_list(values)


@app.command()
def stochastic(
    ctx: typer.Context,
    instance: InstanceArg,
    params: Annotated[
        Path,
        typer.Option(
            "--params", help="Response parameters with their covariance (talentplan calibrate)."
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for stochastic.csv, draws.csv, out_of_sample.csv, targets.csv, "
            "plans.csv, spend.csv and summary.json.",
        ),
    ] = Path("out"),
    draws: Annotated[
        int, typer.Option(help="Parameter draws the stochastic plan is made for.")
    ] = 10,
    fresh_draws: Annotated[
        int, typer.Option(help="Fresh draws to compare the plans out of sample (0: none).")
    ] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the draws.")] = 0,
    alpha: Annotated[
        float, typer.Option(help="CVaR level of the robust plan (0.1: the worst tenth).")
    ] = 0.1,
    robust: Annotated[bool, typer.Option(help="Also plan for the CVaR (robust plan).")] = True,
    recourse: Annotated[
        bool,
        typer.Option(help="Out of sample, re-optimise each plan's spend under each draw."),
    ] = True,
    method: Annotated[
        str,
        typer.Option(
            help="equivalent (one MIP over all draws), decomposition (one MIP per draw and "
            "round, Lagrangian), or auto (the equivalent up to 20 draws)."
        ),
    ] = "auto",
    rounds: Annotated[int, typer.Option(help="Most rounds of the decomposition.")] = 20,
    objective: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="talent_index, min_cost or equity (default: the scenario's)."),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(help="Seconds per solve; a stopped solve keeps its plan and gap."),
    ] = None,
    mip_gap: GapOfEachSolve = 1e-4,
    threads: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Solver threads of each solve."),
    ] = None,
    quiet: QuietRunOption = False,
) -> None:
    """Plan sites and counts once for many parameter draws; compare with the point plan.

    Draws the response parameters of --params from their sampling distribution, solves
    the two-stage plan (sites, alliances and unit counts shared, spending per draw) over
    --draws of them, the plan on the point estimates and the plan that maximises the
    CVaR at --alpha, and scores all three on --fresh-draws new draws with the exact
    curves. Writes the comparison (with the value of the stochastic solution in
    summary.json) to stochastic.csv and the rest beside it. Ctrl-C or SIGTERM stops the
    run and writes the plans found so far, marked interrupted.
    """
    from talentplan.errors import CalibrationError, OptionError
    from talentplan.scenarios.stochastic import STOCHASTIC_FILES, check_options, stochastic_plan
    from talentplan.solver.api import SolveOptions

    check_out_folder(out_dir, "stochastic")
    try:
        options = SolveOptions(time_limit, mip_gap, threads, objective=objective)
        check_options(
            draws=draws, fresh_draws=fresh_draws, alpha=alpha, method=method, rounds=rounds
        )
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    estimates = _read_parameters(params)
    inst = _load(instance)
    make_out_folder(out_dir)
    status = None if quiet else err.status(f"building {inst.scenario.name} ...")
    show = status_updater(status, inst.scenario.name)
    with stop_on_signals("the plans found so far will be written") as stop:
        with exit_on_named_errors(stop, status):
            try:
                result = stochastic_plan(
                    inst,
                    estimates,
                    draws=draws,
                    fresh_draws=fresh_draws,
                    seed=seed,
                    alpha=alpha,
                    robust=robust,
                    recourse=recourse,
                    method=method,
                    rounds=rounds,
                    objective=options.objective,
                    time_limit=options.time_limit,
                    mip_gap=options.mip_gap,
                    threads=options.threads,
                    progress=show,
                    stop=stop,
                )
            except CalibrationError as exc:
                fail("error", f"--params {params}: {exc}", ExitCode.BAD_INPUT)
        write_result(result, out_dir)
        record_run(ctx, out_dir, STOCHASTIC_FILES, solver_options=asdict(options), seed=seed)
    finish_run(
        result,
        out_dir,
        STOCHASTIC_FILES,
        quiet=quiet,
        failed="solve(s) found no plan; see summary.json",
        done="the plans found",
    )


@app.command()
def simulate(
    ctx: typer.Context,
    instance: InstanceArg,
    plan: Annotated[Path, typer.Option(help="A plan CSV shaped like allocation.csv.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write talent.csv and summary.json here.")
    ] = None,
    objective: Annotated[Optional[str], typer.Option(help="Objective to score with.")] = None,  # noqa: UP045
) -> None:
    """Score a plan with the exact response curves and list any rule it breaks."""
    import pandas as pd

    from talentplan.errors import InstanceError, OptionError
    from talentplan.simulation import simulate as run_simulation

    if out_dir is not None:
        check_out_folder(out_dir, "simulate")
    inst = _load(instance)
    try:
        raw = plan.read_bytes()
        frame = pd.read_csv(
            plan,
            dtype={"county": str, "industry": str, "program": str},
            keep_default_na=False,
            na_values={"year": [""], "quantity": [""]},
        )
        result = run_simulation(inst, frame, objective=objective, file=str(plan))
    except FileNotFoundError:
        fail("error", f"plan file {plan} not found", ExitCode.BAD_INPUT)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        fail("error", f"cannot read plan file {plan} as CSV: {exc}", ExitCode.BAD_INPUT)
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    except InstanceError as exc:
        fail("error", str(exc), ExitCode.BAD_INPUT)
    out.print(str(result))
    for breach in result.violations:
        out.print(f"  breach: {breach}")
    if out_dir is not None:
        summary = {
            "command": "simulate",
            "instance": inst.scenario.name,
            "instance_hash": inst.hash(),
            "plan": str(plan),
            "plan_sha256": hashlib.sha256(raw).hexdigest(),
            "objective_name": result.objective_name,
            "objective": result.objective,
            "cost": float(result.cost["cost"].sum()),
            "violations": list(result.violations),
        }
        write_command_set(out_dir, ("talent.csv", result.talent.to_csv(index=False)), summary)
        record_run(ctx, out_dir, ("talent.csv", "summary.json"), solver_options={})


@app.command()
def validate(instance: InstanceArg) -> None:
    """Load and validate an instance; list every problem found."""
    inst = _load(instance)
    out.print(f"{inst!r}: valid")


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A result folder written by solve.")],
) -> None:
    """Write FOLDER/report.html again from the result files in FOLDER."""
    from talentplan._files import atomic_write_text
    from talentplan.report.html_report import render_report
    from talentplan.report.result import AllocationResult

    try:
        page = render_report(AllocationResult.from_dir(folder))
    except FileNotFoundError as exc:
        fail("error", f"{folder} holds no complete result of solve: {exc}", ExitCode.BAD_INPUT)
    except (ValueError, KeyError) as exc:
        fail("error", f"{folder}: unreadable result files: {exc!r}", ExitCode.BAD_INPUT)
    try:
        atomic_write_text(folder / "report.html", page)
    except OSError as exc:
        fail("cannot write", f"{folder / 'report.html'}: {exc}", ExitCode.OUTPUT)
    out.print(f"written {folder / 'report.html'}")


@app.command()
def export(
    instance: InstanceArg,
    target: Annotated[Path, typer.Argument(help="A folder, or a file ending in .xlsx.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing target.")] = False,
) -> None:
    """Write an instance as a folder (TOML + CSV) or an Excel workbook, e.g. to edit it."""
    from talentplan.data.io import write_instance

    if target.suffix and target.suffix.lower() != ".xlsx":
        fail(
            "cannot write",
            f"{target}: give a folder (no file extension) or a workbook ending in .xlsx",
            ExitCode.OUTPUT,
        )
    if target.suffix:
        check_out_file(target, (".xlsx",), "a workbook")
    else:
        check_out_folder(target, "export")
    inst = _load(instance)
    try:
        write_instance(inst, target, overwrite=overwrite)
    except FileExistsError as exc:
        fail("error", str(exc), ExitCode.BAD_INPUT)
    except OSError as exc:
        fail("cannot write", f"{target}: {exc}", ExitCode.OUTPUT)
    out.print(f"written {target}")


@app.command()
def serve(
    instance: Annotated[
        str,
        typer.Argument(
            help="A bundled name (qingyuan, northern_guangdong), a folder or an .xlsx workbook."
        ),
    ] = "qingyuan",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[
        str,
        typer.Option(
            help="Address to bind. Anything but a loopback address (127.0.0.1, ::1, "
            "localhost) needs --token."
        ),
    ] = "127.0.0.1",
    token: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            envvar="TALENTPLAN_TOKEN",
            help="Every request must carry this token: open the printed link once "
            "(?token=T; a cookie keeps it), or send the header X-Talentplan-Token.",
        ),
    ] = None,
    folder: Annotated[
        Path,
        typer.Option(
            help="Folder of the saved scenarios (FOLDER/scenarios/KEY/, the layout of "
            "talentplan sweep --out)."
        ),
    ] = Path("whatif"),
) -> None:
    """Start the what-if page: edit budgets and rules, re-solve, compare plans in a browser.

    Each solve runs in a worker process and is saved under FOLDER/scenarios/ as a sweep
    saves its scenarios. The page binds 127.0.0.1 unless --host says otherwise, and a
    host other machines can reach needs --token. Ctrl-C stops the server (running
    solves are stopped and keep their best plan).
    """
    from talentplan.errors import OptionError
    from talentplan.web.security import check_serve_options

    try:
        check_serve_options(host, token)
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    if not 0 < port < 65536:
        fail("error", f"--port {port}: expected a port number in 1-65535", ExitCode.BAD_INPUT)
    inst = _load(instance)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail("cannot write", f"{folder}: {exc}", ExitCode.OUTPUT)

    import uvicorn

    from talentplan.web.app import create_app
    from talentplan.web.security import page_link, served_hosts

    web = create_app(inst, folder, token, source=instance, hosts=served_hosts(host))
    link = page_link(host, port, token)
    note("what-if", f"{inst.scenario.name} at {link} (scenarios in {folder}/); Ctrl-C stops", "")
    uvicorn.run(web, host=host, port=port, log_level="warning")


@app.command()
def datasets() -> None:
    """List the bundled datasets."""
    from talentplan import datasets as ds

    for name in ds.available():
        first = ds.describe(name).strip().splitlines()[0].lstrip("# ")
        out.print(f"{name:20s} {first}")


@app.command()
def calibrate(
    panel: Annotated[Path, typer.Argument(help="County-year panel (CSV).")],
    spec: Annotated[Path, typer.Option(help="Calibration spec (TOML).")],
    out_json: Annotated[
        Path, typer.Option("--out", help="Where to write the parameters (JSON).")
    ] = Path("params.json"),
) -> None:
    """Estimate response parameters from a panel and write them as JSON."""
    from talentplan.calibrate.bridge.run import calibrate_command
    from talentplan.errors import CalibrationError

    check_out_file(out_json, (".json",), "the parameter file")
    try:
        calibrate_command(panel, spec, out_json)
    except (CalibrationError, FileNotFoundError, ValueError) as exc:
        fail("error", str(exc), ExitCode.BAD_INPUT)
    except OSError as exc:
        fail("cannot write", f"{out_json}: {exc}", ExitCode.OUTPUT)
    out.print(f"written {out_json}")


@app.command()
def replicate(
    manifest: Annotated[
        Path, typer.Argument(help="A run's manifest.json, or the --out folder that holds it.")
    ],
    out_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--out",
            help="A new or empty folder for the rerun (default: a new sibling of the "
            "run's folder, NAME.replica-*).",
        ),
    ] = None,
) -> None:
    """Check a run's inputs against its manifest, run it again and compare every file.

    An input changed since the run is named with both hashes, and nothing is rerun.
    Versions that differ from the ones recorded are warned about on stderr. The rerun
    writes into a new folder, never the original. Plans solved to optimality must be
    bit-for-bit identical; other tables and summaries must agree within a relative
    1e-6, timings left out. Exit 0 when every file matches, 5 otherwise.
    """
    from talentplan.cli.manifest import read_manifest
    from talentplan.cli.replication import (
        check_inputs,
        compare_outputs,
        format_rows,
        new_out_folder,
        rerun,
        version_changes,
    )
    from talentplan.errors import OptionError
    from talentplan.solver.api import versions

    try:
        recorded = read_manifest(manifest)
    except OptionError as exc:
        fail("error", str(exc), ExitCode.BAD_INPUT)
    original = manifest if manifest.is_dir() else manifest.parent
    inputs = check_inputs(recorded)
    out.print(format_rows("inputs", inputs))
    changed = [row.name for row in inputs if not row.match]
    if changed:
        fail(
            "mismatch",
            f"{len(changed)} input file(s) differ from the manifest; not rerun",
            ExitCode.MISMATCH,
        )
    for change in version_changes(recorded["versions"], versions()):
        note("warning", f"version differs: {change}")
    try:
        new = new_out_folder(original, out_dir)
    except OptionError as exc:
        fail("cannot write", str(exc), ExitCode.OUTPUT)
    name = recorded["command"]["name"]
    with err.status(f"running talentplan {name} again into {new} ..."):
        done = rerun(recorded, new)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        note("warning", f"the rerun exited with code {done.returncode}:\n{tail}")
    rows = compare_outputs(recorded, original, new)
    out.print(format_rows(f"outputs (rerun in {new})", rows))
    differ = [row.name for row in rows if not row.match]
    if differ or done.returncode != 0:
        fail(
            "mismatch",
            f"{len(differ)} output file(s) differ from the original run",
            ExitCode.MISMATCH,
        )
    out.print(f"every file matches the run of {original}")


def run() -> None:
    """Run the command line as a program, and leave without tearing the heap down.

    After a solve the process holds the model (millions of small Pyomo objects); freeing
    them one by one at exit takes seconds on a few hundred counties, after the results
    are written, and would make ``solve --time-limit`` late by that much. The streams
    are flushed and logging shut down first, then the process ends with the command's
    exit code. In-process callers (tests, notebooks) use ``app``, which returns normally.
    """
    import os
    import sys

    code: int | str | None = 0
    try:
        app(prog_name="talentplan")
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    os._exit(code)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Set up logging for every command: INFO messages with --verbose, warnings otherwise."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
