"""The ``talentplan`` command line: solve, simulate, validate, export, calibrate.

Exit codes: 0 a plan was found (optimal within the gap, or the best at the time limit);
1 no plan (infeasible, or none found in time); 2 bad input; 3 solver failure.
Heavy libraries are imported inside the commands, so ``talentplan --help`` is instant.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

if TYPE_CHECKING:
    from talentplan.data.instance import Instance

app = typer.Typer(
    help="Plan talent policy in underdeveloped regions: allocate programs with a MIP, "
    "score plans, calibrate response parameters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

EXIT_PLAN, EXIT_NO_PLAN, EXIT_BAD_INPUT, EXIT_SOLVER = 0, 1, 2, 3

InstanceArg = Annotated[
    str,
    typer.Argument(
        help="A bundled name (qingyuan, northern_guangdong), a folder, an .xlsx "
        "workbook, or synthetic:N[:SEED]."
    ),
]


def _load(source: str, budget_scale: float = 1.0) -> Instance:
    from talentplan.data.io import load_instance
    from talentplan.errors import InstanceError, OptionError

    try:
        instance = load_instance(source)
    except (InstanceError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if budget_scale != 1.0:
        try:
            instance = instance.scale_budget(budget_scale)
        except OptionError as exc:
            err.print(f"[red]error:[/red] --budget-scale: {exc}", highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
    return instance


def _clear(folder: Path, names: tuple[str, ...]) -> None:
    """Remove results of an earlier run that would contradict this one."""
    for name in names:
        (folder / name).unlink(missing_ok=True)


@app.command()
def solve(
    instance: InstanceArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the results.")] = Path("out"),
    time_limit: Annotated[
        float | None,
        typer.Option(help="Seconds; the best plan found by then is returned with its gap."),
    ] = None,
    mip_gap: Annotated[float, typer.Option(help="Relative optimality gap to stop at.")] = 1e-4,
    threads: Annotated[Optional[int], typer.Option(help="Solver threads.")] = None,  # noqa: UP045
    objective: Annotated[
        str | None,
        typer.Option(help="talent_index, min_cost or equity (default: the scenario's)."),
    ] = None,
    budget_scale: Annotated[
        float, typer.Option(help="Multiply every budget by this factor.")
    ] = 1.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress line.")] = False,
) -> None:
    """Find the best allocation and write its result files into --out.

    The files are allocation.csv, talent.csv, summary.json and report.html (and
    shadow_prices.csv, budget_use.csv).
    """
    from talentplan._files import atomic_write_text
    from talentplan.errors import (
        InfeasiblePlanError,
        InstanceError,
        NoSolutionError,
        OptionError,
        SolverError,
    )
    from talentplan.report.pipeline import solve as solve_instance
    from talentplan.report.result import RESULT_FILES
    from talentplan.solver.highs import Progress

    inst = _load(instance, budget_scale)
    out_dir.mkdir(parents=True, exist_ok=True)
    status = err.status(f"building {inst.scenario.name} ...") if not quiet else None

    def show(p: Progress) -> None:
        if status is not None:
            gap = f"{p.gap:.3%}" if math.isfinite(p.gap) else "-"
            status.update(
                f"solving {inst.scenario.name}: {p.seconds:6.1f}s  best {p.objective:.6g}"
                f"  bound {p.bound:.6g}  gap {gap}"
            )

    try:
        if status is not None:
            status.start()
        result = solve_instance(
            inst,
            time_limit=time_limit,
            mip_gap=mip_gap,
            threads=threads,
            objective=objective,
            progress=show,
        )
    except (InstanceError, OptionError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except InfeasiblePlanError as exc:
        _clear(out_dir, RESULT_FILES)
        atomic_write_text(out_dir / "infeasibility.txt", exc.explanation + "\n")
        err.print(
            f"[red]infeasible:[/red] {exc.explanation}\n(written to "
            f"{out_dir / 'infeasibility.txt'})",
            highlight=False,
        )
        raise typer.Exit(EXIT_NO_PLAN) from None
    except NoSolutionError as exc:
        _clear(out_dir, (*RESULT_FILES, "infeasibility.txt"))
        err.print(f"[red]no plan:[/red] {exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    except SolverError as exc:
        _clear(out_dir, (*RESULT_FILES, "infeasibility.txt"))
        err.print(f"[red]solver error:[/red] {exc}")
        raise typer.Exit(EXIT_SOLVER) from None
    finally:
        if status is not None:
            status.stop()
    _clear(out_dir, ("infeasibility.txt",))
    result.to_dir(out_dir)
    out.print(str(result), highlight=False)
    out.print(f"\nwritten to {out_dir}/: " + ", ".join(RESULT_FILES))


@app.command()
def frontier(
    instance: InstanceArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for frontier.csv.")] = Path("out"),
    points: Annotated[int, typer.Option(help="Number of points on the frontier.")] = 5,
    time_limit: Annotated[float | None, typer.Option(help="Seconds per solve.")] = None,
    mip_gap: Annotated[float, typer.Option(help="Relative gap of each solve.")] = 1e-3,
) -> None:
    """Trace the efficiency-equity frontier (talent index vs smallest county coverage)."""
    from talentplan._files import atomic_write_text
    from talentplan.errors import InstanceError, NoSolutionError, OptionError
    from talentplan.scenarios.frontier import pareto_frontier

    inst = _load(instance)
    try:
        with err.status(f"tracing the frontier of {inst.scenario.name} ..."):
            front = pareto_frontier(inst, points, time_limit=time_limit, mip_gap=mip_gap)
    except (InstanceError, OptionError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except NoSolutionError as exc:
        err.print(f"[red]no plan:[/red] {exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "frontier.csv", front.points.to_csv(index=False))
    out.print(str(front), highlight=False)


@app.command()
def simulate(
    instance: InstanceArg,
    plan: Annotated[Path, typer.Option(help="A plan CSV shaped like allocation.csv.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write talent.csv and summary.json here.")
    ] = None,
    objective: Annotated[Optional[str], typer.Option(help="Objective to score with.")] = None,  # noqa: UP045
) -> None:
    """Score a plan with the exact response curves and list any rule it breaks."""
    import json

    import pandas as pd

    from talentplan._files import atomic_write_text
    from talentplan.errors import InstanceError, OptionError
    from talentplan.simulation import simulate as run_simulation

    inst = _load(instance)
    try:
        frame = pd.read_csv(
            plan,
            dtype={"county": str, "industry": str, "program": str},
            keep_default_na=False,
            na_values={"year": [""], "quantity": [""]},
        )
        result = run_simulation(inst, frame, objective=objective, file=str(plan))
    except FileNotFoundError:
        err.print(f"[red]error:[/red] plan file {plan} not found")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        err.print(f"[red]error:[/red] cannot read plan file {plan} as CSV: {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (InstanceError, OptionError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    out.print(str(result), highlight=False)
    for breach in result.violations:
        out.print(f"  breach: {breach}", highlight=False)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out_dir / "talent.csv", result.talent.to_csv(index=False))
        summary = {
            "objective_name": result.objective_name,
            "objective": result.objective,
            "cost": float(result.cost["cost"].sum()),
            "violations": list(result.violations),
        }
        atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2))


@app.command()
def validate(instance: InstanceArg) -> None:
    """Load and validate an instance; list every problem found."""
    inst = _load(instance)
    out.print(f"{inst!r}: valid", highlight=False)


@app.command()
def export(
    instance: InstanceArg,
    target: Annotated[Path, typer.Argument(help="A folder, or a file ending in .xlsx.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing target.")] = False,
) -> None:
    """Write an instance as a folder (TOML + CSV) or an Excel workbook, e.g. to edit it."""
    from talentplan.data.io import write_instance

    inst = _load(instance)
    try:
        write_instance(inst, target, overwrite=overwrite)
    except FileExistsError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    out.print(f"written {target}")


@app.command()
def datasets() -> None:
    """List the bundled datasets."""
    from talentplan import datasets as ds

    for name in ds.available():
        first = ds.describe(name).strip().splitlines()[0].lstrip("# ")
        out.print(f"{name:20s} {first}", highlight=False)


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

    try:
        calibrate_command(panel, spec, out_json)
    except (CalibrationError, FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    out.print(f"written {out_json}")


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    """Set up logging for every command: INFO messages with --verbose, warnings otherwise."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
