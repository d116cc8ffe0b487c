"""The what-if page: edit budgets and rules, re-solve, compare plans in a browser.

``talentplan serve`` runs :func:`create_app` with uvicorn. A person changes budgets
(by source and year, or all at once), counties' land quotas and cadre hours, switches
programs off by county, changes, removes or adds policy floors, sets the equity floor,
the objective and the time limit (:mod:`talentplan.web.forms`); solves in a worker
process with live progress and a cancel button (:mod:`talentplan.web.jobs`); sees the
plan as the report shows it (:mod:`talentplan.report.html_report`'s sections); keeps
every solved scenario, named, in a folder in the layout of ``talentplan sweep``
(:mod:`talentplan.web.store`); compares two or three side by side
(:mod:`talentplan.web.compare`); and downloads a scenario's instance workbook,
``plan.xlsx``, ``report.html`` and ``manifest.json``.

Why FastAPI with server-rendered Jinja2 templates and a little plain JavaScript: the
pages are forms and tables, and the report already renders its tables and plots as
HTML; FastAPI gives typed request validation and an in-process test client (fast tests
without a server); the only script polls a job's progress and sends the cancel, so
there is no JavaScript build step. Safety (:mod:`talentplan.web.security`): the page
binds the loopback address unless a token guards it, and with a token every request
must carry it.
"""

from __future__ import annotations

import html
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from talentplan.data.instance import Instance
from talentplan.errors import ScenarioFileError
from talentplan.report.html_report import report_sections
from talentplan.report.result import AllocationResult
from talentplan.scenarios.sweep import scenario_folder, scenario_key
from talentplan.web import jobs
from talentplan.web.compare import (
    change_lines,
    column_labels,
    compare_tables,
    largest_moves,
    number_text,
    with_differences,
)
from talentplan.web.forms import (
    DEFAULT_MIP_GAP,
    DEFAULT_TIME_LIMIT,
    FORM_ERROR,
    NEW_FLOORS,
    OBJECTIVES,
    FormErrors,
    FormLayout,
    counties_text,
    form_layout,
    scenario_from_form,
)
from talentplan.web.jobs import Job, JobManager
from talentplan.web.security import SameOriginMiddleware, TokenMiddleware
from talentplan.web.store import REPORT_FILE, ScenarioStore, UnknownScenarioError

__all__ = ["COMPARE_MAX", "create_app", "form_defaults"]

HERE = Path(__file__).parent

COMPARE_MAX = 3
"""At most this many scenarios side by side."""


@dataclass
class _State:
    instance: Instance
    source: str
    layout: FormLayout
    store: ScenarioStore
    jobs: JobManager


def form_defaults(layout: FormLayout) -> dict[str, str]:
    """Return the form's fields with the instance's own values.

    Every program on, every policy floor kept as it is, and rows for new floors with no
    program (a row adds a floor once its program is chosen) by the plan's last year.
    """
    values = {
        "name": "",
        "objective": layout.objective,
        "time_limit": f"{DEFAULT_TIME_LIMIT:g}",
        "mip_gap": f"{DEFAULT_MIP_GAP:g}",
        "min_coverage": f"{layout.min_coverage:g}",
        "budget_scale": "1",
    }
    values |= {f"budget:{y}:{s}": "1" for y, s in layout.amounts}
    for county in layout.counties:
        values[f"land:{county}"] = f"{layout.land[county]:g}"
        values[f"cadre:{county}"] = f"{layout.cadre[county]:g}"
        values |= {f"program:{county}:{p}": "on" for p in layout.programs}
    for i, floor in enumerate(layout.floors):
        values[f"floor:{i}:min_units"] = f"{floor.min_units:g}"
        values[f"floor:{i}:by_year"] = str(floor.by_year)
        values[f"floor:{i}:program"] = floor.program
        values[f"floor:{i}:counties"] = counties_text(floor.counties)
    last = str(layout.plan_years[-1]) if layout.plan_years else ""
    for j in range(NEW_FLOORS):
        new = {"name": "", "program": "", "by_year": last, "min_units": "1", "county": ""}
        values |= {f"newfloor:{j}:{k}": v for k, v in new.items()}
    return values


def _from_changes(layout: FormLayout, changes: Mapping[str, Any]) -> dict[str, str]:
    """Return the form of a saved scenario: the defaults with its changes."""
    values = form_defaults(layout)
    for name, value in changes.items():
        if name.startswith("program:"):
            values.pop(name, None)
        elif name in values or name.startswith(("floor:", "newfloor:")):
            values[name] = str(value)
    return values


def create_app(
    instance_source: Instance | str,
    folder: str | os.PathLike[str],
    token: str | None = None,
    *,
    source: str | None = None,
    hosts: Sequence[str] = (),
    max_jobs: int = 2,
) -> FastAPI:
    """Make the what-if application for an instance.

    Parameters
    ----------
    instance_source
        The instance, or how to load it (a bundled name, a folder, an ``.xlsx`` file).
    folder
        Where the scenarios are saved (``FOLDER/scenarios/KEY/``); created when missing.
    token
        When given, every request must carry it (:mod:`talentplan.web.security`).
    source
        How the instance was named, recorded with each scenario (default: the name the
        instance was loaded from, or its scenario's name).
    hosts
        Host names the page answers to (``talentplan serve`` on a loopback address:
        :data:`~talentplan.web.security.LOOPBACK_NAMES`); empty: any. A POST from another
        origin is refused either way (:class:`~talentplan.web.security.SameOriginMiddleware`).
    max_jobs
        Solves that may run at once (each is a process); one more is refused with a
        message until one ends or is stopped.

    Returns
    -------
    FastAPI
        The application; ``uvicorn.run(app)`` serves it, ``TestClient(app)`` tests it.
    """
    if isinstance(instance_source, str):
        from talentplan.data.io import load_instance

        instance = load_instance(instance_source)
        source = source or instance_source
    else:
        instance = instance_source
    label = source or instance.scenario.name
    store = ScenarioStore(folder)
    state = _State(instance, label, form_layout(instance), store, JobManager(store.folder, label))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.jobs.shutdown()

    app = FastAPI(title="talentplan what-if", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.whatif = state
    if token is not None:
        app.add_middleware(TokenMiddleware, token=token)
    app.add_middleware(SameOriginMiddleware, hosts=hosts)  # added last: runs first
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")

    def page(
        request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> HTMLResponse:
        common = {
            "instance": state.instance.scenario.name,
            "source": state.source,
            "running": state.jobs.running(),
        }
        return templates.TemplateResponse(
            request, name, {**common, **context}, status_code=status_code
        )

    def index_page(
        request: Request,
        values: Mapping[str, str],
        errors: Mapping[str, str] | None = None,
        status_code: int = 200,
        note: str = "",
    ) -> HTMLResponse:
        return page(
            request,
            "index.html",
            {
                "layout": state.layout,
                "values": values,
                "errors": errors or {},
                "objectives": OBJECTIVES,
                "new_floors": NEW_FLOORS,
                "scenarios": state.store.scenarios(),
                "downloads": state.store.downloads,
                "note": note,
            },
            status_code,
        )

    def not_found(request: Request, message: str) -> HTMLResponse:
        return page(request, "message.html", {"message": message}, 404)

    @app.exception_handler(ScenarioFileError)
    def unreadable(request: Request, exc: ScenarioFileError) -> HTMLResponse:
        """Say which file of a saved scenario cannot be read, and how to mend it."""
        message = f"{exc}. Mend the file, or remove the scenario's folder; the others are shown."
        return page(request, "message.html", {"message": message}, 422)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, start: Annotated[str | None, Query(alias="from")] = None) -> Any:
        """Show the form, the saved scenarios and the running solves."""
        values = form_defaults(state.layout)
        note = ""
        if start:
            try:
                saved = state.store.get(start)
            except UnknownScenarioError as exc:
                return not_found(request, str(exc))
            values = _from_changes(state.layout, saved.web.get("changes", {}))
            values["name"] = f"{saved.name} (changed)"
            note = f"starting from scenario '{saved.name}'"
        return index_page(request, values, note=note)

    @app.post("/solve")
    async def start_solve(request: Request) -> Response:
        """Validate the form; start its solve, or show the form again with the messages."""
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        try:
            whatif = scenario_from_form(state.instance, fields)
        except FormErrors as exc:
            return index_page(request, fields, exc.messages, 400)
        running = state.jobs.running()
        if len(running) >= max_jobs:
            busy = (
                f"{len(running)} solve(s) running, at most {max_jobs} at once: wait for one "
                "to end or stop it (" + ", ".join(j.name for j in running) + ")"
            )
            return index_page(request, fields, {FORM_ERROR: busy}, 429)
        key = scenario_key(whatif.instance, whatif.objective, whatif.options)
        if state.store.exists(scenario_folder(key)):
            return RedirectResponse(f"/scenarios/{scenario_folder(key)}?already=1", 303)
        job = state.jobs.start(
            whatif.instance,
            whatif.options,
            key=key,
            name=whatif.name,
            objective=whatif.objective,
            changes=whatif.changes,
        )
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    def followed(job_id: str, request: Request | None = None) -> Job | Response:
        """Return the job ``job_id``, or the answer for one the page does not follow.

        A job forgotten (:data:`~talentplan.web.jobs.KEEP_ENDED`), or from before a
        restart, is said to have ended, with the scenario it saved; any other gets a 404.
        The answer is the page for ``request``, JSON (as :meth:`Job.view`) without.
        """
        job = state.jobs.get(job_id)
        if job is not None:
            return job
        saved = state.store.saved_by(job_id)
        if saved is None:
            message = (
                f"no solve {job_id!r}: none is running under this id, and no saved scenario "
                f"records it (the page keeps the last {jobs.KEEP_ENDED} ended solves)"
            )
            if request is not None:
                return not_found(request, message)
            return JSONResponse({"error": message}, status_code=404)
        message = f"this solve has ended; its plan is saved as scenario '{saved.name}'"
        if request is not None:
            link = (f"/scenarios/{saved.key}", saved.name)
            return page(request, "message.html", {"message": message, "link": link})
        view: dict[str, Any] = {
            "id": job_id,
            "name": saved.name,
            "key": saved.key,
            "state": "done",
            "progress": {},
            "message": message,
            "plan_status": str(saved.row.get("status", "")),
            "elapsed": None,
        }
        return JSONResponse(view)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: str) -> Any:
        """Show a running solve: its progress (polled by the page's script) and cancel."""
        job = followed(job_id, request)
        if isinstance(job, Response):
            return job
        return page(request, "job.html", {"job": job.view()})

    @app.get("/jobs/{job_id}/status")
    def job_status(job_id: str) -> Response:
        """Return the job's state and progress as JSON."""
        job = followed(job_id)
        return job if isinstance(job, Response) else JSONResponse(job.view())

    @app.post("/jobs/{job_id}/cancel")
    def job_cancel(job_id: str) -> Response:
        """Stop the job: the best plan so far is saved, marked interrupted."""
        job = followed(job_id)
        if isinstance(job, Response):
            return job
        state.jobs.cancel(job.id)
        return JSONResponse(job.view())

    @app.get("/scenarios/{key}", response_class=HTMLResponse)
    def scenario_page(request: Request, key: str, already: int = 0) -> Any:
        """Show a saved scenario's plan, as the report shows it, with its downloads.

        A scenario without a plan (a sweep's infeasible, failed or timed-out one) is shown
        with its status and the reason its ``row.json`` records.
        """
        try:
            saved = state.store.get(key)
        except UnknownScenarioError as exc:
            return not_found(request, str(exc))
        result: AllocationResult | None = None
        sections: list[str] = []
        if saved.has_plan:
            (result,), sections = state.store.draw([key], lambda r: report_sections(r[0]))
        return page(
            request,
            "scenario.html",
            {
                "saved": saved,
                "result": result,
                "sections": sections,
                "downloads": state.store.downloads(key),
                "already": bool(already),
            },
        )

    @app.post("/scenarios/{key}/rename")
    def rename(key: str, name: Annotated[str, Form(max_length=200)]) -> Response:
        """Rename a saved scenario."""
        try:
            state.store.rename(key, name)
        except UnknownScenarioError as exc:
            return HTMLResponse(html.escape(str(exc)), status_code=404)
        return RedirectResponse(f"/scenarios/{key}", status_code=303)

    @app.get("/scenarios/{key}/files/{name}")
    def download(request: Request, key: str, name: str) -> Response:
        """Send one of a scenario's files (:data:`~talentplan.web.store.DOWNLOADS` only).

        A sweep's scenario has no ``report.html``: it is drawn from the plan's files and
        sent, and the folder is left as it is.
        """
        filename = f"{key[:8]}-{name}"
        try:
            if name == REPORT_FILE and name in state.store.downloads(key):
                if not (state.store.root / key / name).is_file():  # a sweep's scenario
                    return HTMLResponse(
                        state.store.drawn_report(key),
                        headers={"content-disposition": f'attachment; filename="{filename}"'},
                    )
            path, media = state.store.file(key, name)
        except UnknownScenarioError as exc:
            return not_found(request, str(exc))
        return FileResponse(path, media_type=media, filename=filename)

    @app.get("/compare", response_class=HTMLResponse)
    def compare(request: Request, key: Annotated[list[str] | None, Query()] = None) -> Any:
        """Show two or three saved scenarios side by side."""
        keys = list(dict.fromkeys(key or []))
        if not 2 <= len(keys) <= COMPARE_MAX:
            return page(
                request,
                "message.html",
                {"message": f"choose two or three scenarios to compare (got {len(keys)})"},
                400,
            )
        try:
            saved = [state.store.get(k) for k in keys]
        except UnknownScenarioError as exc:
            return not_found(request, str(exc))
        if without := [f"{s.name} ({s.row.get('status')})" for s in saved if not s.has_plan]:
            message = f"only plans can be compared; no plan in: {', '.join(without)}"
            return page(request, "message.html", {"message": message}, 400)
        names = [s.name for s in saved]
        _, tables = state.store.draw(
            keys, lambda results: compare_tables(list(zip(names, results, strict=True)))
        )
        shown = {
            name: frame.to_html(classes=f"compare {name}", float_format=number_text, border=0)
            for name, frame in with_differences(tables).items()
        }
        labels = column_labels([s.name for s in saved])
        changed = [
            (label, s.key, change_lines(s.web, state.layout))
            for label, s in zip(labels, saved, strict=True)
        ]
        context = {
            "tables": shown,
            "keys": keys,
            "changed": changed,
            "first": labels[0],
            "moves": largest_moves(tables),
        }
        return page(request, "compare.html", context)

    return app
