"""The what-if page through FastAPI's in-process client: forms, solves, files, safety."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import time
from pathlib import Path

import markupsafe
import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import talentplan as tp
from talentplan.cli import app as cli
from talentplan.data.edit import set_parameters
from talentplan.errors import InstanceValidationError
from talentplan.report.result import RESULT_FILES
from talentplan.scenarios.sweep import ROW_FILE
from talentplan.web.app import create_app
from talentplan.web.compare import change_lines
from talentplan.web.forms import FormErrors, form_layout, scenario_from_form
from talentplan.web.security import COOKIE, HEADER, is_loopback, served_hosts
from talentplan.web.store import ScenarioStore, UnknownScenarioError

from .conftest import start, wait

runner = CliRunner()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_token_guards_every_request(tmp_path: Path, qingyuan: tp.Instance) -> None:
    app = create_app(qingyuan, tmp_path, token="s3cret")
    with TestClient(app) as client:
        for path in ("/", "/?token=wrong", "/static/style.css", "/compare", "/nowhere"):
            assert client.get(path).status_code == 403, path
        assert client.post("/solve", data={}).status_code == 403
        first = client.get("/?token=s3cret")
        assert first.status_code == 200
        assert COOKIE in first.cookies
        assert client.get("/static/job.js").status_code == 200  # the cookie carries it
    with TestClient(app) as other:
        assert other.get("/", headers={HEADER: "s3cret"}).status_code == 200
        assert other.get("/", headers={HEADER: "s3cre"}).status_code == 403


def test_without_a_token_the_page_is_open_on_loopback(
    tmp_path: Path, qingyuan: tp.Instance
) -> None:
    with TestClient(create_app(qingyuan, tmp_path)) as client:
        page = client.get("/")
    assert page.status_code == 200
    assert "Fogang" in page.text and 'name="budget:2025:city_fiscal"' in page.text


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_page_on_another_loopback_address_answers_at_it(
    tmp_path: Path, qingyuan: tp.Instance
) -> None:
    app = create_app(qingyuan, tmp_path, hosts=served_hosts("127.0.0.2"))
    with TestClient(app, base_url="http://127.0.0.2:8000") as client:
        assert client.get("/").status_code == 200
    with TestClient(app, base_url="http://evil.example:8000") as client:
        assert client.get("/").status_code == 403


def test_a_folder_there_already_is_never_replaced(tmp_path: Path) -> None:
    """A sweep makes its scenario's folder before it solves: the page keeps out of it."""
    store = ScenarioStore(tmp_path)
    (store.root / ("c" * 16)).mkdir()  # a sweep still solving this scenario
    assert store.save("c" * 16, lambda tmp: (tmp / ROW_FILE).write_text("{}")) is False
    assert list((store.root / ("c" * 16)).iterdir()) == []
    assert not [p for p in store.root.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("time_limit", "soon", "time_limit soon: expected a finite number > 0 and <= 3600"),
        ("time_limit", "1e9", "<= 3600"),
        ("mip_gap", "", "mip_gap : expected a finite number >= 0"),
        ("budget_scale", "1e308", "factor 1e+308: expected a finite number >= 0 and <= 1000"),
    ],
)
def test_solver_options_are_refused_beside_their_own_field(
    qingyuan: tp.Instance, field: str, value: str, said: str
) -> None:
    with pytest.raises(FormErrors) as refused:
        scenario_from_form(qingyuan, {field: value})
    assert list(refused.value.messages) == [field]
    assert said in refused.value.messages[field]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--host", "0.0.0.0"], "--host 0.0.0.0: expected a loopback address"),
        (["--host", "192.168.1.4"], "--host 192.168.1.4: expected a loopback address"),
        (["--token", ""], "--token '': expected a non-empty token"),
        (["--port", "0"], "--port 0: expected a port number"),
    ],
)
def test_serve_refuses_unsafe_options_with_exit_2(
    tmp_path: Path, args: list[str], said: str
) -> None:
    done = runner.invoke(cli, ["serve", "qingyuan", "--folder", str(tmp_path / "f"), *args])
    assert done.exit_code == 2, done.output
    assert said in done.output
    assert not (tmp_path / "f").exists()  # refused before anything is made


def test_serve_refuses_a_missing_instance_with_exit_2(tmp_path: Path) -> None:
    done = runner.invoke(cli, ["serve", str(tmp_path / "none.xlsx"), "--folder", str(tmp_path)])
    assert done.exit_code == 2, done.output


def test_a_solve_round_trips_into_a_scenario_folder(solved) -> None:
    client, folder, base, cut = solved
    assert base["state"] == "done" and cut["state"] == "done", (base, cut)
    assert base["plan_status"] in ("optimal", "time_limit")
    for job in (base, cut):
        scenario = folder / "scenarios" / job["key"]
        names = {p.name for p in scenario.iterdir()}
        assert {*RESULT_FILES, ROW_FILE, "instance.xlsx", "manifest.json", "web.json"} <= names
        row = json.loads((scenario / ROW_FILE).read_text())
        assert row["key"][:16] == job["key"] and row["status"] == job["plan_status"]
    assert not [p for p in (folder / "scenarios").iterdir() if p.name.startswith(".")]
    page = client.get(f"/scenarios/{cut['key']}")
    assert page.status_code == 200
    assert "budget cut" in page.text and "class='headline'" in page.text
    assert "<svg" in page.text  # the report's plots
    listed = client.get("/").text
    assert "as given" in listed and "budget cut" in listed
    # Ended jobs keep no process, pipe or event open (a server runs for months).
    for job in client.app.state.whatif.jobs.jobs.values():
        assert job._stop is None
        with pytest.raises(ValueError, match="closed"):
            job._process.is_alive()


def test_less_budget_gives_no_higher_objective(solved) -> None:
    _, folder, base, cut = solved
    rows = [
        json.loads((folder / "scenarios" / j["key"] / ROW_FILE).read_text()) for j in (base, cut)
    ]
    assert rows[1]["objective"] <= rows[0]["objective"] * (1 + 1e-2)
    assert rows[1]["spend_total"] < rows[0]["spend_total"]


def test_downloads_are_the_scenarios_files(solved, qingyuan: tp.Instance) -> None:
    client, folder, _, cut = solved
    key = cut["key"]
    for name in ("plan.xlsx", "report.html", "manifest.json", "instance.xlsx"):
        got = client.get(f"/scenarios/{key}/files/{name}")
        assert got.status_code == 200, name
        assert got.content == (folder / "scenarios" / key / name).read_bytes()
    workbook = client.get(f"/scenarios/{key}/files/instance.xlsx").content
    path = folder / "downloaded.xlsx"
    path.write_bytes(workbook)
    budgets = tp.load_instance(str(path)).tables["budgets"]
    assert budgets["amount"].sum() == pytest.approx(
        0.6 * qingyuan.tables["budgets"]["amount"].sum()
    )
    allocation = pd.read_csv(folder / "scenarios" / key / "allocation.csv")
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/scenarios/{key}/files/plan.xlsx").content)
    )
    assert book.sheetnames  # a real workbook
    assert allocation["cost"].sum() <= budgets["amount"].sum() + 1e-6


@pytest.mark.parametrize(
    "path",
    [
        "/scenarios/{key}/files/row.json",
        "/scenarios/{key}/files/allocation.csv",
        "/scenarios/{key}/files/..%2F..%2F..%2Fetc%2Fpasswd",
        "/scenarios/{key}/files/%2E%2E",
        "/scenarios/..%2F{key}/files/plan.xlsx",
        "/scenarios/{upper}/files/plan.xlsx",
        "/scenarios/{short}/files/plan.xlsx",
        "/scenarios/{missing}/files/plan.xlsx",
        "/scenarios/%2E%2E/files/plan.xlsx",
    ],
)
def test_downloads_are_confined_to_the_allow_list(solved, path: str) -> None:
    client, _, _, cut = solved
    key = cut["key"]
    url = path.format(key=key, upper=key.upper(), short=key[:-1], missing="0" * 16)
    response = client.get(url)
    assert response.status_code == 404, url
    assert b"root:" not in response.content


def test_store_refuses_keys_and_names_outside_it(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path)
    (tmp_path / "secret.json").write_text("{}")
    bad = [
        ("..", "secret.json"),
        ("../..", "x"),
        ("a" * 16, "plan.xlsx"),
        ("a" * 64, "x"),
        ("", ""),
    ]
    for key, name in bad:
        with pytest.raises(UnknownScenarioError):
            store.file(key, name)


def test_a_failed_save_leaves_no_folder(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path)

    def fill(tmp: Path) -> None:
        (tmp / "allocation.csv").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.save("b" * 16, fill)
    assert list(store.root.iterdir()) == []


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("land:Fogang", "-5", "counties.Fogang.land_quota_mu"),
        ("cadre:Yangshan", "lots", "counties.Yangshan.cadre_hours"),
        ("min_coverage", "1.5", "scenario.min_coverage"),
        ("budget:2027:provincial_transfer", "=-5", "budgets.2027:provincial_transfer.amount"),
        ("budget:2027:city_fiscal", "=much", "budgets.2027:city_fiscal.amount"),
    ],
)
def test_a_bad_value_gets_the_message_of_the_files_and_loses_nothing(
    solved, qingyuan: tp.Instance, defaults: dict[str, str], field: str, value: str, path: str
) -> None:
    client, folder, _, _ = solved
    before = snapshot(folder)
    with pytest.raises(InstanceValidationError) as expected:
        set_parameters(qingyuan, {"scenario.min_coverage": "0", path: value.lstrip("=")})
    response = client.post("/solve", data={**defaults, field: value})
    assert response.status_code == 400
    assert str(markupsafe.escape(str(expected.value))) in response.text
    assert f'data-field="{field}"' in response.text
    assert snapshot(folder) == before
    assert "budget cut" in response.text  # the saved scenarios are still listed


def test_a_bad_budget_factor_gets_the_message_of_budget_scale(
    solved, defaults: dict[str, str]
) -> None:
    client, _, _, _ = solved
    for field in ("budget_scale", "budget:2026:city_fiscal"):
        response = client.post("/solve", data={**defaults, field: "-1"})
        assert response.status_code == 400
        assert "factor -1.0: expected a finite number &gt;= 0" in response.text


def test_switching_off_a_floor_program_names_the_floor(solved, defaults: dict[str, str]) -> None:
    client, _, _, _ = solved
    form = {k: v for k, v in defaults.items() if k != "program:Fogang:one_stop_centre"}
    response = client.post("/solve", data=form)
    assert response.status_code == 400
    assert "contradicts policy floor" in response.text


def test_compare_puts_two_plans_side_by_side(solved) -> None:
    client, _, base, cut = solved
    page = client.get(f"/compare?key={base['key']}&key={cut['key']}")
    assert page.status_code == 200
    tables = dict(
        re.findall(r'<table class="dataframe compare (\w+)">(.*?)</table>', page.text, re.S)
    )
    assert list(tables) == ["account", "spend_by_county", "spend_by_program", "talent_by_county"]
    header = re.findall(r"<th>([^<]*)</th>", tables["account"].split("</thead>")[0])
    assert header[-3:] == ["as given", "budget cut", "budget cut vs as given"]
    assert "Fogang" in tables["spend_by_county"] and "Fogang" in tables["talent_by_county"]
    assert "cash_subsidy" in tables["spend_by_program"]
    assert client.get(f"/compare?key={base['key']}").status_code == 400


def test_a_solved_scenario_is_not_solved_again(solved, defaults: dict[str, str]) -> None:
    client, _, _, cut = solved
    again = client.post("/solve", data={**defaults, "budget_scale": "0.6"}, follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == f"/scenarios/{cut['key']}?already=1"


@pytest.mark.slow  # two solver processes, ~10 s
def test_cancel_keeps_the_best_plan_so_far_marked_interrupted(tmp_path: Path) -> None:
    with TestClient(create_app("synthetic:15:1", tmp_path)) as client:
        form = client.get("/")
        assert form.status_code == 200
        from talentplan.web.app import form_defaults
        from talentplan.web.forms import form_layout

        fields = form_defaults(form_layout(tp.load_instance("synthetic:15:1")))
        started = client.post(
            "/solve", data={**fields, "mip_gap": "0", "time_limit": "60"}, follow_redirects=False
        )
        job = started.headers["location"].rsplit("/", 1)[1]
        end = time.monotonic() + 40
        while client.get(f"/jobs/{job}/status").json()["progress"].get("phase") != "search":
            assert time.monotonic() < end, "the solve never reached the search"
            time.sleep(0.2)
        t0 = time.monotonic()
        assert client.post(f"/jobs/{job}/cancel").status_code == 200
        status = wait(client, job, 30)
        assert time.monotonic() - t0 < 20
    assert status["state"] == "done", status
    assert status["plan_status"] == "interrupted"
    web = json.loads((tmp_path / "scenarios" / status["key"] / "web.json").read_text())
    assert web["scenario_key"] != status["key"]  # the scenario's own key stays free
    assert (
        json.loads((tmp_path / "scenarios" / status["key"] / ROW_FILE).read_text())["status"]
        == "interrupted"
    )


def test_a_worker_that_dies_is_reported_and_the_page_goes_on(
    tmp_path: Path, qingyuan: tp.Instance, defaults: dict[str, str]
) -> None:
    app = create_app(qingyuan, tmp_path)
    with TestClient(app) as client:
        started = client.post(
            "/solve", data={**defaults, "time_limit": "60", "mip_gap": "0"}, follow_redirects=False
        )
        job_id = started.headers["location"].rsplit("/", 1)[1]
        job = app.state.whatif.jobs.get(job_id)
        end = time.monotonic() + 20
        while job._process.pid is None:
            assert time.monotonic() < end
            time.sleep(0.05)
        os.kill(job._process.pid, signal.SIGKILL)
        status = wait(client, job_id, 20)
        assert status["state"] == "error"
        assert "stopped unexpectedly" in status["message"] and "-9" in status["message"]
        assert client.get(f"/jobs/{job_id}").status_code == 200
        assert client.get("/").status_code == 200
    assert list((tmp_path / "scenarios").iterdir()) == []


@pytest.mark.slow  # two solver processes, ~10 s
def test_two_tabs_solving_the_same_scenario_keep_one_whole_folder(tmp_path: Path) -> None:
    from talentplan.scenarios.sweep import scenario_key
    from talentplan.solver.api import SolveOptions

    small = tp.load_instance("synthetic:3:1")
    app = create_app(small, tmp_path)
    options = SolveOptions(20, 1e-2, 1, "talent_index")
    key = scenario_key(small, "talent_index", options)
    jobs = app.state.whatif.jobs
    with TestClient(app) as client:
        started = [
            jobs.start(
                small, options, key=key, name=f"tab {i}", objective="talent_index", changes={}
            )
            for i in (1, 2)
        ]
        ends = [wait(client, job.id) for job in started]
    assert [e["state"] for e in ends] == ["done", "done"], ends
    assert sorted(e["message"] for e in ends) == ["", "solved already: the saved plan is shown"]
    assert [p.name for p in (tmp_path / "scenarios").iterdir()] == [key[:16]]
    saved = ScenarioStore(tmp_path).get(key[:16])
    assert saved.name in ("tab 1", "tab 2") and saved.has_plan and saved.row["key"] == key
    assert ScenarioStore(tmp_path).result(key[:16]).objective == saved.row["objective"]


def test_a_sweep_into_the_pages_folder_reuses_its_scenarios(solved, qingyuan: tp.Instance) -> None:
    from talentplan.scenarios.sweep import sweep

    client, folder, base, cut = solved
    done = sweep(qingyuan, folder, budget_scale=[1.0, 0.6], time_limit=20.0, mip_gap=0.01)
    table = done.table
    assert table["reused"].tolist() == [True, True]  # the page's solves, nothing solved again
    assert [k[:16] for k in table["key"]] == [base["key"], cut["key"]]
    listed = client.get("/").text
    assert "as given" in listed and "budget cut" in listed
    # Ended jobs keep no process, pipe or event open (a server runs for months).
    for job in client.app.state.whatif.jobs.jobs.values():
        assert job._stop is None
        with pytest.raises(ValueError, match="closed"):
            job._process.is_alive()


def test_foreign_hosts_and_foreign_forms_are_refused(tmp_path: Path, qingyuan: tp.Instance) -> None:
    app = create_app(qingyuan, tmp_path, hosts=("127.0.0.1", "localhost", "::1"))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        assert client.get("/").status_code == 200
        assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200
        assert client.get("/", headers={"host": "[::1]:8000"}).status_code == 200
        rebound = client.get("/", headers={"host": "evil.example:8000"})
        assert rebound.status_code == 403
        foreign = client.post("/solve", data={}, headers={"origin": "http://evil.example"})
        assert foreign.status_code == 403
        own = client.post(
            "/solve", data={"land:Fogang": "x"}, headers={"origin": "http://127.0.0.1:8000"}
        )
        assert own.status_code == 400  # let through, and refused for its value


def test_rename_and_edit_as_new(solved) -> None:
    client, folder, _, cut = solved
    key = cut["key"]
    renamed = client.post(f"/scenarios/{key}/rename", data={"name": "six tenths"})
    assert renamed.status_code == 200 and "six tenths" in renamed.text
    assert json.loads((folder / "scenarios" / key / "web.json").read_text())["name"] == "six tenths"
    again = client.get(f"/?from={key}").text
    assert 'id="budget_scale" value="0.6"' in again
    assert client.get("/?from=" + "f" * 16).status_code == 404
    client.post(f"/scenarios/{key}/rename", data={"name": "budget cut"})


def test_a_solve_past_the_limit_of_running_solves_is_refused(
    tmp_path: Path, qingyuan: tp.Instance, defaults: dict[str, str]
) -> None:
    with TestClient(create_app(qingyuan, tmp_path, max_jobs=0)) as client:
        refused = client.post("/solve", data=defaults)
    assert refused.status_code == 429
    assert "at most 0 at once" in refused.text
    assert list((tmp_path / "scenarios").iterdir()) == []


def test_an_infeasible_scenario_is_explained_and_not_saved(
    solved, defaults: dict[str, str]
) -> None:
    client, folder, _, _ = solved
    before = sorted(p.name for p in (folder / "scenarios").iterdir())
    status = wait(client, start(client, {**defaults, "cadre:Fogang": "0"}))
    assert status["state"] == "error"
    assert "no plan satisfies every rule" in status["message"]
    assert "cadre hours of Fogang" in status["message"]
    assert sorted(p.name for p in (folder / "scenarios").iterdir()) == before


def test_compare_says_what_changed_and_what_moved(solved) -> None:
    client, _, base, cut = solved
    page = client.get(f"/compare?key={base['key']}&key={cut['key']}")
    assert page.status_code == 200
    tables = dict(
        re.findall(r'<table class="dataframe compare (\w+)">(.*?)</table>', page.text, re.S)
    )
    for table in tables.values():
        assert "<th>budget cut vs as given</th>" in table.split("</thead>")[0]
    assert re.search(r"<td>-[\d,.]+ \(-\d+%\)</td>", tables["spend_by_program"])
    changed = re.findall(r"<h3><a [^>]*>([^<]*)</a></h3>\s*<ul>(.*?)</ul>", page.text, re.S)
    assert [(label, re.findall(r"<li>([^<]*)</li>", ul)) for label, ul in changed] == [
        ("as given", ["nothing: the instance as given"]),
        ("budget cut", ["every budget × 0.6"]),
    ]
    (moves,) = re.findall(r'<p class="moves"><strong>budget cut:</strong> ([^<]*)</p>', page.text)
    assert moves.startswith("The objective (") and " against as given." in moves
    assert 2 <= moves.count(".") and "spend falls by" in moves


def test_differences_and_moves_from_the_tables() -> None:
    from talentplan.web.compare import largest_moves, with_differences

    account = pd.DataFrame(
        {
            "a": {"objective": 100.0, "objective name": "talent_index", "gap": 0.01},
            "b": {"objective": 90.0, "objective name": "talent_index", "gap": 0.002},
        }
    )
    program = pd.DataFrame(
        {"a": [12405.0, 500.0], "b": [0.0, 620.0]}, index=["talent_housing", "cash_subsidy"]
    )
    county = pd.DataFrame(
        {"a": [20000.0, 3000.0], "b": [12068.0, 3000.0]}, index=["Yingde", "Fogang"]
    )
    talent = pd.DataFrame({"a": [50.0, 40.0], "b": [50.0, 40.0]}, index=["Yingde", "Fogang"])
    tables = {
        "account": account,
        "spend_by_county": county,
        "spend_by_program": program,
        "talent_by_county": talent,
    }
    shown = with_differences(tables)
    assert shown["spend_by_program"]["b vs a"].tolist() == ["-12,405 (-100%)", "+120 (+24%)"]
    assert shown["account"]["b vs a"].tolist() == ["-10 (-10%)", "", "-0.008"]
    assert shown["talent_by_county"]["b vs a"].tolist() == ["", ""]
    assert largest_moves(tables) == {
        "b": [
            "The objective (talent_index) falls by 10 (-10%) against a.",
            "talent_housing spend falls by 12,405 (-100%).",
            "Yingde's spend falls by 7,932 (-40%).",
        ]
    }


def test_change_lines_say_each_edit_in_plain_words(qingyuan: tp.Instance) -> None:
    from talentplan.web.compare import change_lines

    layout = form_layout(qingyuan)
    web = {
        "changes": {
            "budget:2027:provincial_transfer": "0.8",
            "land:Yingde": "60",
            "cadre:Fogang": "100",
            "program:Liannan:cash_subsidy": "off",
            "min_coverage": "0.3",
            "objective": "min_cost",
        }
    }
    assert change_lines(web, layout) == [
        "budget provincial_transfer 2027 × 0.8",
        f"land quota (mu) Yingde {layout.land['Yingde']:g} → 60",
        f"cadre hours Fogang {layout.cadre['Fogang']:g} → 100",
        "Liannan: cash_subsidy off",
        f"equity floor (min_coverage) {layout.min_coverage:g} → 0.3",
        "objective min_cost",
    ]
    assert change_lines({}) == ["(a sweep scenario)"]


def test_a_sweep_scenario_without_report_gets_one_drawn_and_compares(
    solved, tmp_path: Path, qingyuan: tp.Instance
) -> None:
    import shutil

    _, folder, base, cut = solved
    keys = ["a" * 16, "b" * 16]
    for job, key in zip((base, cut), keys, strict=True):
        copy = tmp_path / "scenarios" / key
        shutil.copytree(folder / "scenarios" / job["key"], copy)
        for name in ("report.html", "web.json", "manifest.json"):
            (copy / name).unlink()  # as a sweep writes it: to_dir(report=False), no web.json
    before = sorted(p.name for p in (tmp_path / "scenarios" / keys[1]).iterdir())
    with TestClient(create_app(qingyuan, tmp_path)) as client:
        page = client.get(f"/scenarios/{keys[1]}")
        assert page.status_code == 200
        assert 'id="download-report-html"' in page.text
        assert 'id="download-manifest-json"' not in page.text
        got = client.get(f"/scenarios/{keys[1]}/files/report.html")
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
        assert "attachment" in got.headers["content-disposition"]
        assert "<svg" in got.text and "budget" in got.text.lower()
        assert client.get(f"/scenarios/{keys[1]}/files/manifest.json").status_code == 404
        compared = client.get(f"/compare?key={keys[0]}&key={keys[1]}")
        assert compared.status_code == 200
        assert compared.text.count("<li>(a sweep scenario)</li>") == 2
    assert sorted(p.name for p in (tmp_path / "scenarios" / keys[1]).iterdir()) == before


HOUSING = {
    "newfloor:0:program": "talent_housing",
    "newfloor:0:by_year": "2027",
    "newfloor:0:min_units": "1",
    "newfloor:0:county": "",
}
"""A new floor on the form: a housing block in every county by 2027."""


def test_a_floor_added_is_met_by_the_plan_said_and_restored(
    solved, qingyuan: tp.Instance, defaults: dict[str, str]
) -> None:
    client, folder, base, _ = solved
    status = wait(client, start(client, {**defaults, **HOUSING, "name": "housing everywhere"}))
    assert status["state"] == "done", status
    scenario = folder / "scenarios" / status["key"]
    allocation = pd.read_csv(scenario / "allocation.csv", keep_default_na=False)
    housing = allocation[(allocation["program"] == "talent_housing") & (allocation["year"] == 2027)]
    units = housing.groupby("county")["quantity"].sum()
    counties = qingyuan.tables["counties"]["county"].tolist()
    assert all(units.get(c, 0.0) >= 1 - 1e-6 for c in counties), units
    floors = tp.load_instance(str(scenario / "instance.xlsx")).scenario.floors
    assert [(f.program, f.by_year, f.min_units, f.counties) for f in floors][1:] == [
        ("talent_housing", 2027, 1.0, ())
    ]
    web = json.loads((scenario / "web.json").read_text())
    assert web["changes"] == HOUSING
    compared = client.get(f"/compare?key={base['key']}&key={status['key']}").text
    assert "<li>floor: talent_housing ≥ 1 in every county by 2027</li>" in compared
    again = client.get(f"/?from={status['key']}").text
    assert re.search(r'name="newfloor:0:program">.*?<option selected>talent_housing<', again, re.S)
    assert re.search(r'name="newfloor:0:by_year">.*?<option selected>2027<', again, re.S)


@pytest.mark.parametrize(
    ("fields", "row", "toml"),
    [
        ({**HOUSING, "newfloor:0:min_units": "11"}, "newfloor:0", HOUSING | {"min_units": 11.0}),
        ({**HOUSING, "newfloor:0:by_year": "2031"}, "newfloor:0", HOUSING | {"by_year": 2031}),
        ({"floor:0:min_units": "2"}, "floor:0", None),
    ],
    ids=["above-the-cap", "after-the-plan", "a-site-twice"],
)
def test_a_bad_floor_gets_the_message_of_the_file_beside_its_row(
    solved,
    qingyuan: tp.Instance,
    defaults: dict[str, str],
    tmp_path: Path,
    fields: dict[str, str],
    row: str,
    toml: dict[str, object] | None,
) -> None:
    """The message is scenario.toml's for the same floor, shown beside the floor's row."""
    from talentplan.data.io import write_instance

    client, folder, _, _ = solved
    floor = {"name": "housing", "program": "talent_housing", "by_year": 2027, "min_units": 1.0}
    if toml is None:  # the instance's own floor: a site is open (1) or not
        floor = {"name": "one-stop centre everywhere", "program": "one_stop_centre"}
        floor |= {"by_year": 2027, "min_units": 2.0}
        added = ""
    else:
        floor |= {k: v for k, v in toml.items() if k in ("by_year", "min_units")}
        fields = {**fields, "newfloor:0:name": "housing"}
        added = "[[floors]]\n" + "".join(
            f"{k} = {json.dumps(v)}\n" for k, v in {**floor, "counties": []}.items()
        )
    written = write_instance(qingyuan, tmp_path / "inst")
    text = (written / "scenario.toml").read_text()
    if toml is None:
        text = text.replace("min_units = 1.0", "min_units = 2.0")
    (written / "scenario.toml").write_text(text + "\n" + added)
    with pytest.raises(InstanceValidationError) as from_file:
        tp.load_instance(str(written))
    said = [e.message for e in from_file.value.errors]
    assert said and all("policy floor" in m for m in said), said
    before = snapshot(folder)
    response = client.post("/solve", data={**defaults, **fields})
    assert response.status_code == 400
    beside = re.search(rf'data-field="{row}">(.*?)</div>', response.text, re.S)
    assert beside is not None, response.text
    assert all(str(markupsafe.escape(m)) in beside.group(1) for m in said), beside.group(1)
    assert snapshot(folder) == before
    assert "budget cut" in response.text  # the saved scenarios are still listed


def test_a_removed_floor_is_gone_and_its_program_can_be_switched_off(
    qingyuan: tp.Instance, defaults: dict[str, str]
) -> None:
    from talentplan.web.app import _from_changes
    from talentplan.web.forms import scenario_from_form

    form = {k: v for k, v in defaults.items() if k != "program:Fogang:one_stop_centre"}
    whatif = scenario_from_form(qingyuan, {**form, "floor:0:remove": "on"})
    assert whatif.instance.scenario.floors == ()
    assert whatif.changes == {"program:Fogang:one_stop_centre": "off", "floor:0:remove": "on"}
    pins = whatif.instance.tables["pins"]
    assert ((pins["county"] == "Fogang") & (pins["program"] == "one_stop_centre")).any()
    kept = scenario_from_form(qingyuan, defaults)
    assert kept.instance.scenario.floors == qingyuan.scenario.floors and kept.changes == {}
    restored = _from_changes(form_layout(qingyuan), whatif.changes)  # edit as new
    assert restored["floor:0:remove"] == "on" and "program:Fogang:one_stop_centre" not in restored
    assert scenario_from_form(qingyuan, restored).changes == whatif.changes


def test_a_floor_no_budget_can_pay_is_explained_and_not_saved(
    solved, defaults: dict[str, str]
) -> None:
    """16 housing blocks in 2025 (415 each, 10k yuan) cost more than the year's budgets x0.3."""
    client, folder, _, _ = solved
    before = sorted(p.name for p in (folder / "scenarios").iterdir())
    floor = {**HOUSING, "newfloor:0:by_year": "2025", "newfloor:0:min_units": "2"}
    form = {
        **defaults,
        **floor,
        "newfloor:0:name": "housing first",
        "budget_scale": "0.3",
    }
    status = wait(client, start(client, form))
    assert status["state"] == "error", status
    assert "no plan satisfies every rule" in status["message"]
    assert "floor 'housing first' (talent_housing in" in status["message"]
    assert "budget 2025/" in status["message"]
    assert sorted(p.name for p in (folder / "scenarios").iterdir()) == before
    assert "budget cut" in client.get("/").text


def test_change_lines_say_floors_in_plain_words(qingyuan: tp.Instance) -> None:
    from talentplan.web.compare import change_lines

    layout = form_layout(qingyuan)
    web = {
        "changes": {
            "floor:0:min_units": "2",
            "floor:0:by_year": "2026",
            "newfloor:1:program": "talent_housing",
            "newfloor:1:by_year": "2027",
            "newfloor:1:min_units": "1",
            "newfloor:1:county": "",
            "newfloor:0:name": "studio in Fogang",
            "newfloor:0:program": "skill_studio",
            "newfloor:0:by_year": "2028",
            "newfloor:0:min_units": "1",
            "newfloor:0:county": "Fogang",
        }
    }
    assert change_lines(web, layout) == [
        "floor 'one-stop centre everywhere' min units 1 → 2",
        "floor 'one-stop centre everywhere' by year 2027 → 2026",
        "floor: talent_housing ≥ 1 in every county by 2027",
        "floor 'studio in Fogang': skill_studio ≥ 1 in Fogang by 2028",
    ]
    removed = {"changes": {"floor:0:remove": "on"}}
    assert change_lines(removed, layout) == ["floor 'one-stop centre everywhere' removed"]


def test_a_budget_cell_takes_an_amount_after_an_equals_sign(
    qingyuan: tp.Instance, defaults: dict[str, str]
) -> None:
    form = {**defaults, "budget:2027:provincial_transfer": "=5000"}
    whatif = scenario_from_form(qingyuan, form)
    budgets = whatif.instance.tables["budgets"]
    row = budgets[(budgets["year"] == 2027) & (budgets["source"] == "provincial_transfer")]
    assert list(row["amount"]) == [5000.0]
    assert change_lines({"changes": whatif.changes}) == [
        "budget provincial_transfer 2027 = 5000 (10k yuan)"
    ]


def test_abandoned_saves_are_removed_and_fresh_ones_kept(tmp_path: Path) -> None:
    root = tmp_path / "scenarios"
    old, fresh = root / ".dead0000.x.tmp", root / ".live0000.y.tmp"
    old.mkdir(parents=True)
    fresh.mkdir()
    (old / "allocation.csv").write_text("half")
    os.utime(old, (time.time() - 3 * 3600, time.time() - 3 * 3600))
    ScenarioStore(tmp_path)
    assert not old.exists() and fresh.exists()


BAD_FILES = [
    ("row.json", '{\n "key": "k",\n    oops\n}', "row.json: not valid JSON (line 3, column 5)"),
    ("row.json", '{"status": "optimal", "objective": "high"}', "'objective' should be a number"),
    ("row.json", "[1, 2]", "row.json: not a JSON object but list"),
    ("web.json", '{"name": "x", "changes": ["budget_scale"]}', "web.json: 'changes' should be"),
    ("web.json", b"\xff\xfe{}", "web.json: not UTF-8 text"),
    ("summary.json", '{"status": ', "summary.json: not valid JSON (line 1, column 12)"),
    ("allocation.csv", "oops\n1\n", "cannot be shown (KeyError: "),
]
"""A file of a saved scenario spoilt by hand, and what the page says of it."""


@pytest.mark.parametrize(("name", "text", "said"), BAD_FILES, ids=[b[2][:24] for b in BAD_FILES])
def test_a_scenario_file_spoilt_by_hand_is_named_and_the_page_goes_on(
    solved, tmp_path: Path, qingyuan: tp.Instance, name: str, text: str | bytes, said: str
) -> None:
    import shutil

    _, folder, base, cut = solved
    good, spoilt = "a" * 16, "b" * 16
    for job, key in zip((base, cut), (good, spoilt), strict=True):
        shutil.copytree(folder / "scenarios" / job["key"], tmp_path / "scenarios" / key)
    (tmp_path / "scenarios" / spoilt / "report.html").unlink()  # as a sweep writes it: drawn
    path = tmp_path / "scenarios" / spoilt / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    before = snapshot(tmp_path)
    listed_bad = name in ("row.json", "web.json")  # the list reads these two
    with TestClient(create_app(qingyuan, tmp_path)) as client:
        listed = client.get("/")
        assert listed.status_code == 200
        assert "as given" in listed.text  # the other scenario is listed as it was
        row = re.search(rf'<tr data-key="{spoilt}"[^>]*>(.*?)</tr>', listed.text, re.S)
        assert row is not None
        assert ("<td>unreadable</td>" in row.group(1)) is listed_bad
        if listed_bad:
            assert f"scenarios/{spoilt}/{name}" in row.group(1) and said in html_text(row.group(1))
            assert 'name="key"' not in row.group(1)  # nothing to compare
        for url in (
            f"/scenarios/{spoilt}",
            f"/compare?key={good}&key={spoilt}",
            f"/scenarios/{spoilt}/files/report.html",
        ):
            shown = client.get(url)
            assert shown.status_code == 422, url
            assert f"scenarios/{spoilt}" in shown.text and said in html_text(shown.text), url
            assert "Traceback" not in shown.text
        if name == "web.json":  # not replaced by one that forgets the changes
            assert client.post(f"/scenarios/{spoilt}/rename", data={"name": "n"}).status_code == 422
            assert client.get(f"/?from={spoilt}").status_code == 422
    assert snapshot(tmp_path) == before


def html_text(markup: str) -> str:
    """The text of HTML as a reader sees it (entities read back)."""
    import html

    return html.unescape(markup)


INFEASIBLE_ROW = {
    "key": "c" * 64,
    "reason": "No plan satisfies every rule of this instance.\n"
    "Rules that cannot all hold with these limits (the least give):\n"
    "  - equity floor (coverage of Yingde >= 100.0% in 2029): missed by 1.703e+04 persons",
    "status": "infeasible",
    "seconds": 10.2,
}
"""The row a sweep writes for a scenario no plan satisfies (``sweep(min_coverage=[1.0])`` on
qingyuan, 12 s): its folder holds that ``row.json`` alone."""


def test_a_sweeps_infeasible_scenario_has_a_page_with_its_status_and_reason(
    solved, tmp_path: Path, qingyuan: tp.Instance
) -> None:
    import shutil

    _, folder, base, _ = solved
    shutil.copytree(folder / "scenarios" / base["key"], tmp_path / "scenarios" / base["key"])
    sweep_made, page_made = "c" * 16, "d" * 16
    for key, web in ((sweep_made, None), (page_made, {"name": "all covered", "changes": {}})):
        (tmp_path / "scenarios" / key).mkdir()
        (tmp_path / "scenarios" / key / ROW_FILE).write_text(json.dumps(INFEASIBLE_ROW))
        if web is not None:
            web["changes"] = {"min_coverage": "1"}
            (tmp_path / "scenarios" / key / "web.json").write_text(json.dumps(web))
    with TestClient(create_app(qingyuan, tmp_path)) as client:
        listed = client.get("/")
        assert listed.status_code == 200
        row = re.search(rf'<tr data-key="{sweep_made}">(.*?)</tr>', listed.text, re.S)
        assert row is not None and "<td>infeasible</td>" in row.group(1)
        assert 'name="key"' not in row.group(1) and "/?from=" not in row.group(1)
        page = client.get(f"/scenarios/{sweep_made}")
        assert page.status_code == 200
        assert '<strong id="status">infeasible</strong>' in page.text
        reason = re.search(r'<pre class="reason" id="reason">(.*?)</pre>', page.text, re.S)
        assert reason is not None and html_text(reason.group(1)) == INFEASIBLE_ROW["reason"]
        assert "class='headline'" not in page.text and "/files/" not in page.text
        assert "/?from=" not in page.text and 'id="no-edit"' in page.text
        own = client.get(f"/scenarios/{page_made}")
        assert own.status_code == 200 and 'id="reason"' in own.text
        assert f'href="/?from={page_made}" id="edit-as-new"' in own.text
        again = client.get(f"/?from={page_made}")
        assert again.status_code == 200 and 'id="min_coverage" value="1"' in again.text
        compared = client.get(f"/compare?key={base['key']}&key={sweep_made}")
        assert (
            compared.status_code == 400
            and "no plan in: sweep cccccccc (infeasible)" in compared.text
        )
        assert client.get(f"/scenarios/{sweep_made}/files/report.html").status_code == 404


def test_ended_jobs_beyond_the_cap_are_forgotten_and_their_pages_point_to_their_plans(
    solved, tmp_path: Path, qingyuan: tp.Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from talentplan.web import jobs
    from talentplan.web.jobs import Job

    page, folder, base, _ = solved
    web = json.loads((folder / "scenarios" / base["key"] / "web.json").read_text())
    assert web["job"] == base["id"]  # the worker records the job that saved it
    assert page.app.state.whatif.jobs.get(base["id"]).ended is not None  # its follower ended it
    shutil.copytree(folder / "scenarios" / base["key"], tmp_path / "scenarios" / base["key"])
    monkeypatch.setattr(jobs, "KEEP_ENDED", 2)
    app = create_app(qingyuan, tmp_path)
    manager = app.state.whatif.jobs
    running = Job("r" * 32, "still solving", "0" * 16, state="running")
    manager.jobs[running.id] = running  # the oldest of all, never forgotten
    ended = [Job(f"{i}" * 32, f"ended {i}", "0" * 16, state="error") for i in range(4)]
    ended[0].id = base["id"]  # the first to end saved the scenario
    for job in ended:
        manager.jobs[job.id] = job
        job.ended = time.monotonic()
        manager._forget_ended()
    assert list(manager.jobs) == [running.id, ended[2].id, ended[3].id]
    with TestClient(app) as client:
        assert client.get(f"/jobs/{ended[3].id}/status").json()["state"] == "error"
        gone = client.get(f"/jobs/{base['id']}")
        assert gone.status_code == 200 and "this solve has ended" in gone.text
        assert f'href="/scenarios/{base["key"]}" id="link">as given<' in gone.text
        status = client.get(f"/jobs/{base['id']}/status")
        assert status.status_code == 200
        assert status.json()["state"] == "done" and status.json()["key"] == base["key"]
        assert client.post(f"/jobs/{base['id']}/cancel").json()["state"] == "done"
        for url in (f"/jobs/{ended[1].id}", f"/jobs/{ended[1].id}/status", "/jobs/nothing"):
            lost = client.get(url)
            assert lost.status_code == 404, url
            assert "no saved scenario records it (the page keeps the last 2 ended" in lost.text
        assert client.post(f"/jobs/{ended[1].id}/cancel").status_code == 404
        del manager.jobs[running.id]  # no process to stop at the end


def test_an_existing_floors_program_and_counties_are_edited_said_and_restored(
    tmp_path: Path, qingyuan: tp.Instance, defaults: dict[str, str]
) -> None:
    from talentplan.data.io import write_instance
    from talentplan.web.app import _from_changes

    layout = form_layout(qingyuan)
    assert (defaults["floor:0:program"], defaults["floor:0:counties"]) == ("one_stop_centre", "")
    moved = {"floor:0:program": "talent_housing", "floor:0:counties": "Fogang; Yingde"}
    whatif = scenario_from_form(qingyuan, {**defaults, **moved})
    (floor,) = whatif.instance.scenario.floors
    assert (floor.program, floor.counties) == ("talent_housing", ("Fogang", "Yingde"))
    assert (floor.name, floor.by_year, floor.min_units) == (
        "one-stop centre everywhere",
        2027,
        1.0,
    )
    assert whatif.changes == moved
    assert change_lines({"changes": whatif.changes}, layout) == [
        "floor 'one-stop centre everywhere' program one_stop_centre → talent_housing",
        "floor 'one-stop centre everywhere' counties every county → Fogang; Yingde",
    ]
    restored = _from_changes(layout, whatif.changes)  # edit as new
    assert scenario_from_form(qingyuan, restored).changes == moved
    # A county the file would refuse is refused beside the floor's row, with the file's words.
    written = write_instance(qingyuan, tmp_path / "inst")
    text = (written / "scenario.toml").read_text()
    assert text.count("counties = []") == 1
    (written / "scenario.toml").write_text(text.replace("counties = []", 'counties = ["Nowhere"]'))
    with pytest.raises(InstanceValidationError) as from_file:
        tp.load_instance(str(written))
    said = [e.message for e in from_file.value.errors]
    assert said and all("unknown county 'Nowhere'" in m for m in said), said
    with TestClient(create_app(qingyuan, tmp_path / "page")) as client:
        form = {**defaults, "floor:0:program": "talent_housing", "floor:0:counties": "Nowhere"}
        response = client.post("/solve", data=form)
    assert response.status_code == 400
    beside = re.search(r'data-field="floor:0">(.*?)</div>', response.text, re.S)
    assert beside is not None and all(str(markupsafe.escape(m)) in beside.group(1) for m in said)
    assert 'name="floor:0:counties" value="Nowhere"' in response.text  # kept as typed
    assert re.search(
        r'name="floor:0:program">.*?<option selected>talent_housing<', response.text, re.S
    )
