"""Notebooks are committed without outputs, and each runs and draws at least one plot.

The fast test reads the committed files: no outputs, no execution counts. The slow one
executes every notebook with nbclient (a fresh kernel, the notebook's folder as the
working directory), fails on any error, and asserts that the executed notebook holds at
least one image, so a story notebook that stops drawing is caught.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
IMAGES = ("image/png", "image/svg+xml")
STORIES = ("quickstart", "qingyuan", "calibration", "scale", "uncertainty")


def images(nb: nbformat.NotebookNode) -> int:
    """Count the image outputs of the code cells of ``nb``."""
    return sum(
        any(kind in output.get("data", {}) for kind in IMAGES)
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def test_the_story_notebooks_are_there():
    assert {p.stem for p in NOTEBOOKS} >= set(STORIES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.outputs]
    counted = [i for i, c in enumerate(nb.cells) if c.get("execution_count") is not None]
    assert not with_outputs, f"{path.name}: cells {with_outputs} have outputs; clear them"
    assert not counted, f"{path.name}: cells {counted} have execution counts; clear them"


def test_images_counts_only_image_outputs():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1"), nbformat.v4.new_code_cell("2")]
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"})]
    assert images(nb) == 0
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", {"image/png": "iVBORw0K"})]
    assert images(nb) == 1


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_draws(path, monkeypatch):
    # The suite draws with Agg (conftest); a kernel started with that backend would show
    # no figure, so the kernel gets the inline backend, which renders with Agg.
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    assert images(nb) >= 1, f"{path.name} ran but drew no plot"
