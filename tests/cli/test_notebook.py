"""docs/examples/explore.ipynb runs headless from top to bottom and renders its tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "explore.ipynb"
KERNEL = "pmsync-test-python"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    """The notebook, executed once with a kernel on this very interpreter.

    The kernel spec is written for the test, so the result does not depend on which
    kernels the machine has installed or what "python3" means there.
    """
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "pmsync tests",
                "language": "python",
            }
        )
    )
    patch = pytest.MonkeyPatch()
    patch.setenv("JUPYTER_PATH", str(root))
    patch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    try:
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        NotebookClient(
            notebook,
            kernel_name=KERNEL,
            timeout=120,
            resources={"metadata": {"path": str(root)}},
        ).execute()
    finally:
        patch.undo()
    return notebook


def _html_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]


def test_notebook_runs_without_errors(executed: nbformat.NotebookNode) -> None:
    errors = [
        output
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert [] == errors


def test_notebook_renders_the_plan_as_an_html_table(executed: nbformat.NotebookNode) -> None:
    plans = [html for html in _html_outputs(executed) if 'class="pmsync-plan"' in html]
    assert 1 == len(plans)
    assert "<table>" in plans[0]
    assert "create" in plans[0]
    # Owners by name, as the team reviews them; Cloud account ids stay in the JSON.
    assert "owner: - → Alice Chen" in plans[0]
    assert "5b10ac8d82e05b22cc7d" not in plans[0]


def test_notebook_renders_the_report_and_dataframes(executed: nbformat.NotebookNode) -> None:
    html = _html_outputs(executed)
    assert any("Action items on" in h for h in html)
    assert sum('class="dataframe"' in h for h in html) >= 3


def test_committed_notebook_carries_no_outputs() -> None:
    """Outputs hold ports and dates that change on every run; keep diffs clean."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert [] == [c.outputs for c in notebook.cells if c.cell_type == "code" and c.outputs]


def test_notebook_renders_the_review(executed: nbformat.NotebookNode) -> None:
    reviews = [h for h in _html_outputs(executed) if "<strong>Review on " in h]
    assert 1 == len(reviews)
    assert "<h4>Completed (" in reviews[0]
