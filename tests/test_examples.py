"""The scripts in examples/ and the tutorial notebook run, at a small size, on a fresh copy of
examples/ (no local data, a data cache of the session's own), and print what they promise.
The ones that train longest run with the slow tests (the second step of CI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("INFOMORPHIC_DATA_PATH", None)
    env["INFOMORPHIC_DATA"] = str(tmp_path_factory.mktemp("data-cache"))
    env["MPLBACKEND"] = "Agg"
    return env


def run_example(name: str, args: list[str], cwd: Path, env: dict[str, str]) -> str:
    shutil.copytree(EXAMPLES, cwd / "examples", dirs_exist_ok=True)
    done = subprocess.run(
        [sys.executable, f"examples/{name}", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_custom_network(tmp_path: Path, env: dict[str, str]) -> None:
    out = run_example("custom_network.py", ["--epochs", "2", "--hidden", "12"], tmp_path, env)
    assert "hidden goal: +1.000*{F}{C} -0.100*{F}" in out
    line = re.search(r"epoch +2: test accuracy ([0-9.]+); hidden atoms \(bits\) (.*)", out)
    assert line and 0.0 <= float(line.group(1)) <= 1.0
    assert all(label in line.group(2) for label in ("{F}", "{C}", "{F}{C}", "{FC}", "H_res"))


def test_pid_of_your_data(tmp_path: Path, env: dict[str, str]) -> None:
    args = ["--samples", "20000", "--noise", "0", "--csv", "counts.csv"]
    out = run_example("pid_of_your_data.py", args, tmp_path, env)
    # noiseless XOR of two fair coins: about 1 bit, of which 2 - log2(3) = 0.415 synergy
    synergy, mutual = map(
        float, re.search(r"synergy ([0-9.]+) bits of .* = ([0-9.]+)", out).groups()
    )
    assert synergy == pytest.approx(0.415, abs=0.01) and mutual == pytest.approx(1.0, abs=0.01)
    assert (tmp_path / "counts.csv").read_text().startswith("a,b,t,count\n0,0,0,")
    tables = re.findall(r"\{ab\} +[0-9.]+ +([0-9.]+)", out)
    assert len(tables) == 2 and tables[0] == tables[1]  # NumPy rows and the CSV agree


@pytest.mark.slow
def test_search_from_python(tmp_path: Path, env: dict[str, str]) -> None:
    args = ["--trials", "2", "--epochs", "1", "--dataset", "digits", "--hidden", "12"]
    out = run_example("search_from_python.py", args, tmp_path, env)
    assert len(re.findall(r"trial \d: validation [0-9.]+ \(test [0-9.]+\)", out)) == 2
    assert "Goal 'best' for 3 sources (F, C, L)" in out and "Mostly:" in out


def test_run_to_pandas(tmp_path: Path, env: dict[str, str]) -> None:
    out = run_example("run_to_pandas.py", ["--epochs", "2"], tmp_path, env)
    assert "setup1 on digits: test accuracy" in out
    # 2 epochs x (32 hidden neurons x 19 + 10 output neurons x 5) rows
    assert f"{2 * (32 * 19 + 10 * 5):,} rows in long format" in out


@pytest.mark.slow
def test_run_to_pandas_reads_a_given_folder(tmp_path: Path, env: dict[str, str]) -> None:
    from infomorphic.training import TrainConfig, train

    train(TrainConfig(dataset="digits", hidden=[8], epochs=1), tmp_path / "given", progress=False)
    out = run_example("run_to_pandas.py", [str(tmp_path / "given")], tmp_path, env)
    assert f"{1 * (8 * 19 + 10 * 5):,} rows in long format" in out


@pytest.mark.slow
def test_tutorial_notebook_executes(tmp_path: Path, env: dict[str, str]) -> None:
    jupytext = pytest.importorskip("jupytext", reason="the notebook extra is not installed")
    nbclient = pytest.importorskip("nbclient", reason="the notebook extra is not installed")
    pytest.importorskip("ipykernel", reason="the notebook extra is not installed")
    notebook = jupytext.read(EXAMPLES / "tutorial.py")
    saved = {k: os.environ.get(k) for k in ("INFOMORPHIC_DATA", "MPLBACKEND", "TUTORIAL_EPOCHS")}
    os.environ.update(INFOMORPHIC_DATA=env["INFOMORPHIC_DATA"], TUTORIAL_EPOCHS="1")
    os.environ.pop("MPLBACKEND", None)  # the kernel's own inline backend draws the figures
    try:
        nbclient.NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        ).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "test accuracy" in text and "Mostly: encode {F}{C}" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # atoms, accuracy, receptive fields
    assert (tmp_path / "runs" / "tutorial" / "atoms.npz").is_file()
