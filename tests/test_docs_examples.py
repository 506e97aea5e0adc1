"""Every example marked runnable in README.md and docs/ runs as written, on a fresh copy.

The convention (docs/contributing.md): an HTML comment right before a fenced block marks it,
invisible on GitHub and on the docs site.

* ``<!-- runnable -->`` before a ``console`` block: each ``$ command`` runs (a line ending in
  ``\\`` continues), and the lines shown after it must be its output (``...`` on a line of its
  own stands for any number of lines; trailing spaces are ignored). Before a ``bash`` block:
  the block runs in bash with ``set -e``. Before a ``python`` block: the block runs as a script.
* ``<!-- runnable file=NAME -->`` writes the block into NAME (a configuration file that a later
  command reads).
* ``<!-- runnable slow -->``: the block runs only in the slow test (``-m slow``).

Each page runs in a folder of its own, its blocks in order, so a later block may use what an
earlier one wrote (a run folder). The folder holds a copy of ``examples/`` and nothing else:
no ``../shared`` data, a data cache of the test session's own, no network.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
MARKER = re.compile(r"^<!--\s*runnable(?P<options>[^>]*?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,})(?P<lang>[\w-]*)")
TIMEOUT_S = 600


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    text: str
    slow: bool
    file: str | None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The marked blocks of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    k = 0
    while k < len(lines):
        marker = MARKER.match(lines[k].strip())
        if not marker:
            k += 1
            continue
        options = marker.group("options").split()
        fence = FENCE.match(lines[k + 1]) if k + 1 < len(lines) else None
        assert fence, f"{page.name}:{k + 1}: a runnable marker must stand right before a fence"
        indent, ticks = fence.group("indent"), fence.group("fence")
        body: list[str] = []
        end = k + 2
        while not lines[end].strip().startswith(ticks):
            body.append(lines[end][len(indent) :])
            end += 1
        file = next((o.split("=", 1)[1] for o in options if o.startswith("file=")), None)
        known = {"slow"} | {o for o in options if o.startswith("file=")}
        assert set(options) <= known, f"{page.name}:{k + 1}: unknown options {options}"
        found.append(
            Block(page, k + 2, fence.group("lang"), "\n".join(body) + "\n", "slow" in options, file)
        )
        k = end + 1
    return found


def console_commands(text: str) -> list[tuple[str, list[str]]]:
    """``$ command`` lines (with continuations) and the output lines shown after each."""
    commands: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    k = 0
    while k < len(lines):
        line = lines[k]
        if not line.startswith("$ "):
            assert not commands, f"output before the first command: {line!r}"
            k += 1
            continue
        command = line[2:]
        while command.endswith("\\"):
            k += 1
            command = command[:-1] + " " + lines[k].strip()
        k += 1
        output = []
        while k < len(lines) and not lines[k].startswith("$ "):
            output.append(lines[k])
            k += 1
        commands.append((command, output))
    return commands


def matches(expected: list[str], got: list[str]) -> bool:
    """Whether ``got`` reads as ``expected``, where a line ``...`` stands for any lines."""
    expected = [line.rstrip() for line in expected]
    got = [line.rstrip() for line in got]
    while expected and not expected[-1]:
        expected.pop()
    while got and not got[-1]:
        got.pop()
    if not expected:
        return not got
    if expected[0] == "...":
        return any(matches(expected[1:], got[k:]) for k in range(len(got) + 1))
    return bool(got) and expected[0] == got[0] and matches(expected[1:], got[1:])


def run(command: list[str], where: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, (
        f"{where}: {shlex.join(command)} exited {done.returncode}\n"
        f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    )
    return done.stdout


def run_block(block: Block, cwd: Path, env: dict[str, str]) -> None:
    if block.file:
        (cwd / block.file).write_text(block.text)
    elif block.lang == "python":
        script = cwd / "example.py"
        script.write_text(block.text)
        run([sys.executable, str(script)], block.where, cwd, env)
    elif block.lang in ("bash", "sh"):
        run(["bash", "-e", "-c", block.text], block.where, cwd, env)
    elif block.lang == "console":
        for command, output in console_commands(block.text):
            stdout = run(["bash", "-e", "-c", command], block.where, cwd, env)
            if output and not matches(output, stdout.splitlines()):
                pytest.fail(
                    f"{block.where}: `{command}` printed\n{stdout}\nbut the page shows\n"
                    + "\n".join(output)
                )
    else:
        pytest.fail(f"{block.where}: cannot run a {block.lang!r} block")


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data cache shared by the pages of one session (mnist-sample is parsed once)."""
    return tmp_path_factory.mktemp("data-cache")


def fresh_folder(tmp_path: Path) -> Path:
    """A folder like a fresh clone's for these examples: ``examples/``, nothing beside it."""
    folder = tmp_path / "clone"
    shutil.copytree(REPO / "examples", folder / "examples")
    return folder


def environment(data_cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("INFOMORPHIC_DATA_PATH", None)
    env.pop("INFOMORPHIC_MNIST_DIR", None)
    env["INFOMORPHIC_DATA"] = str(data_cache)
    bin_dir = str(Path(sys.executable).parent)  # the `infomorphic` of this environment
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["TUTORIAL_EPOCHS"] = "1"
    return env


MARKED = [page for page in PAGES if blocks(page)]


def test_marker_convention_is_used() -> None:
    assert REPO / "README.md" in MARKED and len(MARKED) >= 5
    assert console_commands("$ a \\\n  b\nout\n...\n$ c\n") == [("a  b", ["out", "..."]), ("c", [])]
    assert matches(["x", "...", "z"], ["x", "y1", "y2", "z"]) and not matches(["x"], ["y"])
    assert matches(["x", "..."], ["x"]) and not matches(["x", "...", "z"], ["x", "y"])


@pytest.mark.parametrize("page", MARKED, ids=lambda p: str(p.relative_to(REPO)))
def test_page_examples_run(page: Path, tmp_path: Path, data_cache: Path) -> None:
    cwd, env = fresh_folder(tmp_path), environment(data_cache)
    for block in blocks(page):
        if not block.slow:
            run_block(block, cwd, env)


SLOW = [page for page in MARKED if any(block.slow for block in blocks(page))]


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW, ids=lambda p: str(p.relative_to(REPO)))
def test_page_examples_run_with_slow_ones(page: Path, tmp_path: Path, data_cache: Path) -> None:
    cwd, env = fresh_folder(tmp_path), environment(data_cache)
    for block in blocks(page):
        run_block(block, cwd, env)
