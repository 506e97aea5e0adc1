"""Issue 17's bad inputs and damaged files: each ends in one clear line and exit 2 (never a
traceback) or does the right thing. Searches here are tiny (digits, N = 8, one epoch)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from infomorphic.cli import main
from infomorphic.training import RunFolder

optuna = pytest.importorskip("optuna")

TRAIN = ["--dataset", "digits", "--hidden", "8", "--batch-size", "256", "--no-progress"]
SEARCH = [
    "--dataset",
    "digits",
    "--hidden",
    "8",
    "--batch-size",
    "256",
    "--sampler",
    "random",
    "--epochs",
    "1",
]
STUDY = "search-setup1-random"


def error(capsys) -> str:
    """The command's stderr, which must be messages only."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def trials(folder: Path, name: str = STUDY) -> list:
    storage = f"sqlite:///{folder / 'study.db'}"
    return optuna.load_study(study_name=name, storage=storage).trials


@pytest.fixture(scope="module")
def run2(tmp_path_factory) -> Path:
    """A finished 2-epoch run of N = 8 on digits, and one of N = 6 (another run)."""
    base = tmp_path_factory.mktemp("runs")
    assert main(["train", *TRAIN, "--epochs", "2", "--out", str(base / "run")]) == 0
    assert (
        main(["train", *TRAIN, "--epochs", "2", "--seed", "1", "--out", str(base / "other")]) == 0
    )
    return base / "run"


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> Path:
    """A search folder holding a finished study of 2 trials."""
    out = tmp_path_factory.mktemp("search") / "s"
    assert main(["search", *SEARCH, "--trials", "2", "--out", str(out)]) == 0
    return out


def copy(source: Path, tmp_path: Path, name: str = "copy") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


# -- training runs ----------------------------------------------------------------------------
def test_resume_never_shortens_a_run(run2, tmp_path, capsys):
    run = copy(run2, tmp_path)
    assert main(["train", "--out", str(run), "--resume", "--epochs", "1", "--no-progress"]) == 2
    assert "has trained 2 epochs already" in error(capsys)
    assert RunFolder(run).train_config().epochs == 2  # config.json untouched


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--hidden", "10,,5"], "an empty size"),
        (["--hidden", "10,"], "an empty size"),
        (["--seed", str(10**23)], "0..4294967295"),
        (["--config", "."], "is a directory"),
    ],
)
def test_bad_train_options_are_named(tmp_path, capsys, argv, fragment):
    assert main(["train", *TRAIN, "--epochs", "0", "--out", str(tmp_path / "r"), *argv]) == 2
    assert fragment in error(capsys)
    assert not (tmp_path / "r").exists()


def test_a_network_too_large_for_memory_is_refused_with_the_number(tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["train", *TRAIN, "--epochs", "1", "--hidden", "100000000,100000000", "--out", str(out)]
    assert main(argv) == 2
    assert "need at least" in error(capsys)
    assert not out.exists()  # refused before anything was written


def test_a_binary_goal_file_is_named(tmp_path, capsys):
    goal = tmp_path / "goal.bin"
    goal.write_bytes(bytes(range(256)))
    assert (
        main(["train", *TRAIN, "--epochs", "0", "--goal", str(goal), "--out", str(tmp_path / "r")])
        == 2
    )
    assert f"goal file {goal}: not a text file" in error(capsys)


def test_predict_refuses_pixels_far_outside_the_training_data(run2, tmp_path, capsys):
    far, fine = tmp_path / "far.npy", tmp_path / "fine.npy"
    np.save(far, np.full((2, 64), -1e9, np.float32))
    np.save(fine, np.full((2, 64), 8.0, np.float32))  # digits: pixels 0..16
    assert main(["predict", str(run2), str(far)]) == 2
    assert "lie far outside the run's data" in error(capsys)
    assert main(["predict", str(run2), str(fine)]) == 0


def test_predict_bounds_runs_without_a_recorded_range_by_their_spread(run2, tmp_path, capsys):
    run = copy(run2, tmp_path)
    config = json.loads((run / "config.json").read_text())
    for key in ("min", "max"):
        del config["standardisation"][key]
    (run / "config.json").write_text(json.dumps(config))
    far = tmp_path / "far.npy"
    np.save(far, np.full((1, 64), 1e6, np.float32))
    assert main(["predict", str(run), str(far)]) == 2
    assert "standard deviation" in error(capsys)


def test_files_of_another_run_are_refused_by_name(run2, tmp_path, capsys):
    run = copy(run2, tmp_path)
    shutil.copy(run2.parent / "other" / "atoms.npz", run / "atoms.npz")
    assert main(["inspect", str(run), "--format", "png"]) == 2
    assert "atoms.npz is damaged (it belongs to another run" in error(capsys)
    shutil.copy(run2 / "atoms.npz", run / "atoms.npz")
    shutil.copy(run2.parent / "other" / "checkpoint.pt", run / "checkpoint.pt")
    assert main(["train", "--out", str(run), "--resume", "--epochs", "3", "--no-progress"]) == 2
    assert "checkpoint.pt is damaged (it belongs to another run" in error(capsys)


def test_atoms_of_another_size_are_refused_in_runs_without_ids(run2, tmp_path, capsys):
    run = copy(run2, tmp_path)
    config = json.loads((run / "config.json").read_text())
    del config["run_id"]
    (run / "config.json").write_text(json.dumps(config))
    arrays = dict(np.load(run / "atoms.npz"))
    arrays["hidden1_atoms"] = arrays["hidden1_atoms"][:, :5]
    np.savez(run / "atoms.npz", **arrays)
    with pytest.raises(ValueError, match="hidden1 layer has 5 neurons where config.json's has 8"):
        RunFolder(run).atoms()


def test_a_resumed_run_keeps_its_identity(run2, tmp_path):
    run = copy(run2, tmp_path)
    before = RunFolder(run).config()["run_id"]
    assert main(["train", "--out", str(run), "--resume", "--epochs", "3", "--no-progress"]) == 0
    assert RunFolder(run).config()["run_id"] == before
    assert str(np.load(run / "atoms.npz")["run_id"]) == before
    assert RunFolder(run).atoms()["hidden1_atoms"].shape[0] == 3  # the reader drops the id


# -- searches --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fixed", "fragment"),
    [(["H_res=5"], "goal weights live in [-1, 1]"), (["H_res=0", "H_res=0.5"], "given twice")],
)
def test_bad_fixed_weights_are_refused(tmp_path, capsys, fixed, fragment):
    argv = ["search", *SEARCH, "--trials", "1", "--out", str(tmp_path / "s")]
    for item in fixed:
        argv += ["--fixed", item]
    assert main(argv) == 2
    assert fragment in error(capsys)
    assert not (tmp_path / "s").exists()


def test_a_study_refuses_other_options_and_lists_them(searched, tmp_path, capsys):
    out = copy(searched, tmp_path)
    argv = ["search", *SEARCH, "--trials", "3", "--out", str(out), "--study", STUDY]
    changed = [*argv, "--hidden", "9", "--epochs", "2", "--fixed", "H_res=0", "--sampler", "tpe"]
    assert main(changed) == 2
    err = error(capsys)
    for fragment in (
        "--hidden 9 (the study has 8)",
        "--epochs 2 (the study has 1)",
        "--fixed H_res=0 (the study has none)",
        "--sampler tpe (the study has random)",
        "may change from run to run: --trials, --workers",
    ):
        assert fragment in err, fragment
    assert len(trials(out)) == 2  # nothing was added
    record = json.loads((out / "search.json").read_text())
    assert record["config"]["hidden"] == [8]  # search.json keeps the study's own options
    # what may change does: more trials, another heartbeat
    assert main([*argv, "--heartbeat", "5"]) == 0
    assert [t.state.name for t in trials(out)] == ["COMPLETE"] * 3


def test_a_missing_or_emptied_study_is_an_error_not_a_fresh_start(searched, tmp_path, capsys):
    argv = ["search", *SEARCH, "--trials", "3", "--out"]
    missing = copy(searched, tmp_path, "missing")
    (missing / "study.db").unlink()
    assert main([*argv, str(missing)]) == 2
    assert "study.db does not exist: the study was deleted" in error(capsys)
    assert not (missing / "study.db").exists()
    emptied = copy(searched, tmp_path, "emptied")
    (emptied / "study.db").write_bytes(b"")
    assert main([*argv, str(emptied)]) == 2
    assert f"holds no study '{STUDY}'" in error(capsys)


def test_a_folder_refuses_a_second_study(searched, tmp_path, capsys):
    out = copy(searched, tmp_path)
    assert main(["search", *SEARCH, "--trials", "1", "--out", str(out), "--study", "other"]) == 2
    assert f"holds the search of study '{STUDY}'" in error(capsys)


def located_trials(folder: Path) -> int:
    """The trials of the study that search-report (and ablate --order study:) would read."""
    from infomorphic.search.locate import load_study, locate

    return len(load_study(locate(str(folder))).trials)


def test_a_copied_search_folder_reads_its_own_database(searched, tmp_path):
    original = copy(searched, tmp_path, "original")
    copied = copy(original, tmp_path, "copied")
    assert "database" in json.loads((copied / "search.json").read_text())
    assert main(["search", *SEARCH, "--trials", "3", "--out", str(original)]) == 0
    assert located_trials(original) == 3
    assert located_trials(copied) == 2  # its own, not the original's
    assert main(["search", *SEARCH, "--trials", "3", "--out", str(copied)]) == 0
    assert len(trials(copied)) == 3 and len(trials(original)) == 3


def test_an_old_absolute_search_json_prefers_the_folders_own_database(searched, tmp_path):
    original = copy(searched, tmp_path, "original")
    copied = copy(original, tmp_path, "copied")
    record = json.loads((copied / "search.json").read_text())
    record.pop("database")
    record["storage"] = f"sqlite:///{(original / 'study.db').resolve()}"  # as before issue 17
    (copied / "search.json").write_text(json.dumps(record))
    assert main(["search", *SEARCH, "--trials", "3", "--out", str(original)]) == 0
    assert located_trials(copied) == 2
    # the same command continues the copy's own study and rewrites search.json relative
    assert main(["search", *SEARCH, "--trials", "4", "--out", str(copied)]) == 0
    assert len(trials(copied)) == 4 and len(trials(original)) == 3
    assert json.loads((copied / "search.json").read_text())["database"] == "study.db"


@pytest.mark.parametrize("name", ["../../x", "a/b", ".hidden", ""])
def test_study_names_cannot_leave_the_output_folder(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    assert main(["search", *SEARCH, "--trials", "1", "--study", name]) == 2
    assert "a study name is letters, digits" in error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_search_json_is_named(searched, tmp_path, capsys):
    out = copy(searched, tmp_path)
    (out / "search.json").write_text("{not json")
    assert main(["search-report", str(out)]) == 2
    assert f"{out / 'search.json'} is damaged" in error(capsys)
    assert main(["search", *SEARCH, "--trials", "3", "--out", str(out)]) == 2
    assert f"{out / 'search.json'} is damaged" in error(capsys)


# -- storages: a message for every bad URL and damaged database, in every command -------------
BAD_URLS = {
    "foo://": "is not a storage URL",
    "not a url": "is not a storage URL",
    "sqlite:///{tmp}/missing/folder/x.db": "lies in a folder that does not exist",
    "postgresql+psycopg://user@127.0.0.1:1/db": "the storage",
}


def _storage_commands(url: str, tmp_path: Path) -> list[list[str]]:
    return [
        ["search", *SEARCH, "--trials", "1", "--out", str(tmp_path / "s"), "--storage", url],
        ["search-report", "toy", "--storage", url, "--out", str(tmp_path / "r")],
        [
            "ablate",
            "--dataset",
            "digits",
            "--hidden",
            "8",
            "--epochs",
            "1",
            "--kinds",
            "cumulative",
            "--order",
            f"study:{url}#toy",
            "--out",
            str(tmp_path / "a"),
        ],
    ]


@pytest.mark.parametrize("url", list(BAD_URLS))
def test_no_storage_url_gives_a_traceback(tmp_path, capsys, url):
    pytest.importorskip("psycopg")
    url = url.format(tmp=tmp_path)
    for argv in _storage_commands(url, tmp_path):
        assert main(argv) == 2, argv[0]
        err = error(capsys)
        assert BAD_URLS[url.replace(str(tmp_path), "{tmp}")] in err, (argv[0], err)
        assert len(err.strip().splitlines()) == 1, err


def test_a_damaged_study_database_is_named(searched, tmp_path, capsys):
    out = copy(searched, tmp_path)
    (out / "study.db").write_bytes(b"this is no database\n" * 100)
    commands = [
        ["search", *SEARCH, "--trials", "3", "--out", str(out)],
        ["search-report", str(out), "--out", str(tmp_path / "r")],
        [
            "ablate",
            "--dataset",
            "digits",
            "--hidden",
            "8",
            "--epochs",
            "1",
            "--kinds",
            "cumulative",
            "--order",
            f"study:{out}",
            "--out",
            str(tmp_path / "a"),
        ],
    ]
    for argv in commands:
        assert main(argv) == 2, argv[0]
        assert "study.db is not an SQLite database of optuna" in error(capsys), argv[0]


# -- CIFAR-10 batches cannot run code ---------------------------------------------------------
class _MakesAFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_a_crafted_cifar_batch_cannot_run_code(tmp_path):
    from infomorphic.data.cifar import read_cifar_batch
    from infomorphic.data.types import CorruptDataError

    victim = tmp_path / "created-by-the-pickle"
    for protocol in (2, 5):
        batch = tmp_path / f"data_batch_{protocol}"
        batch.write_bytes(pickle.dumps({b"data": _MakesAFile(victim)}, protocol=protocol))
        with pytest.raises(CorruptDataError, match="which a CIFAR-10 batch never holds"):
            read_cifar_batch(batch)
        assert not victim.exists()
    # proof that the pickle would have created the file if loaded unrestricted
    pickle.loads((tmp_path / "data_batch_2").read_bytes())
    assert victim.exists()


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_real_batch_contents_still_read_under_every_protocol(tmp_path, protocol):
    from infomorphic.data.cifar import read_cifar_batch

    data = np.arange(3 * 3072, dtype=np.int64).astype(np.uint8).reshape(3, 3072)
    content = {
        b"batch_label": b"testing batch 1 of 1",
        b"labels": [3, 0, 9],
        b"data": data,
        b"filenames": [b"a.png", b"b.png", b"c.png"],
    }
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps(content, protocol=protocol))
    x, y = read_cifar_batch(path)
    assert np.array_equal(x, data) and y.tolist() == [3, 0, 9]
