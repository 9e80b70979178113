"""The researchers' notebook runs against real output, so it never rots."""
import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT


def test_explore_notebook_executes(seed_run, monkeypatch):
    _, out = seed_run
    monkeypatch.setenv("PIPELINE_OUTPUT", str(out))
    nb = nbformat.read(ROOT / "notebooks" / "explore.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
