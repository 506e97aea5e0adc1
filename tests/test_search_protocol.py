"""``search.protocol``: a search's settings checked before anything opens, the one rule by which
a study gets its record and its known goals, a search folder's study opened and set up, and
one schema for every study (``infomorphic search``'s and ``reproduce fig6``'s)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

optuna = pytest.importorskip("optuna")

from infomorphic.search.protocol import (  # noqa: E402
    search_settings,
    set_up_study,
    start_search,
)
from infomorphic.search.space import GoalSpace  # noqa: E402
from infomorphic.search.study import setup_record  # noqa: E402
from infomorphic.training.config import TrainConfig  # noqa: E402

TINY = TrainConfig(dataset="digits", hidden=[8], epochs=1, batch_size=256).validate()
#: search.json's keys, in its order (the search folder's format).
SEARCH_JSON_KEYS = [
    "config",
    "trials",
    "storage",
    "database",
    "study",
    "out",
    "population",
    "sampler",
    "goal_layers",
    "fixed",
    "enqueue",
    "prune",
    "pruner",
    "min_epochs",
    "reduction_factor",
    "workers",
    "threads",
    "heartbeat",
    "cluster",
]


def test_settings_have_the_defaults_of_the_command_and_search_json_s_keys():
    settings = search_settings(TINY, 3, sampler="cmaes")
    assert settings.study == "search-setup1-cmaes" and settings.out == "runs/search-setup1-cmaes"
    assert (settings.storage, settings.database) == (None, "study.db")
    assert settings.fixed == ["H_res=0"]  # the paper's CMA-ES runs
    assert settings.goal_layers is None and settings.prune is False and settings.pruner is None
    assert list(settings.to_dict()) == SEARCH_JSON_KEYS
    assert settings.train_config == TINY
    layered = replace(TINY, hidden=[8, 6])
    per_layer = search_settings(layered, 1, goal_layers="all", fixed=["hidden1.H_res=0"])
    assert per_layer.goal_layers == ["hidden1", "hidden2"] and per_layer.fixed == [
        "hidden1.H_res=0"
    ]
    pruned = search_settings(TINY, 1, prune=True)
    assert (pruned.prune, pruned.pruner, pruned.reduction_factor) == (True, "median", 3)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"trials": 0}, "--trials: must be >= 1"),
        ({"population": 0}, "--population and --workers"),
        ({"workers": 0}, "--population and --workers"),
        ({"heartbeat": 0}, "--heartbeat"),
        ({"study": "../escape"}, "a study name is letters"),
        ({"storage": "nowhere"}, "is not a storage URL"),
        ({"enqueue": ["no-such-goal"]}, "no-such-goal"),
        ({"prune": True, "pruner": "sh"}, "--prune is --pruner median"),
        ({"min_epochs": 1}, "give a --pruner too"),
        ({"cluster": "tcp://host:8786"}, "workers on other machines cannot share"),
    ],
)
def test_settings_refuse_bad_options_before_anything_opens(tmp_path, options, fragment):
    options = {"trials": 1, "out": tmp_path / "search", **options}
    with pytest.raises(ValueError, match=fragment):
        search_settings(TINY, **options)
    assert not (tmp_path / "search").exists()


def _study(name: str = "s"):
    return optuna.create_study(study_name=name, direction="maximize")


def test_the_creator_enqueues_and_records_the_others_check_and_enqueue_once():
    space = GoalSpace.for_config(TINY)
    record = setup_record(TINY, space, "random", 1)
    study = _study()
    set_up_study(study, True, record, space, ["heuristic"])
    assert study.user_attrs["infomorphic"] == record
    assert [t.user_attrs["enqueued"] for t in study.trials] == ["heuristic"]
    set_up_study(study, False, record, space, ["heuristic", "optimized"])  # a second worker
    assert [t.user_attrs["enqueued"] for t in study.trials] == ["heuristic", "optimized"]
    other = setup_record(replace(TINY, epochs=2), space, "random", 1)
    with pytest.raises(ValueError, match=r"created with other options.*--epochs 2"):
        set_up_study(study, False, other, space)
    fresh = _study("fresh")  # its creator is still setting it up: nobody else enqueues
    set_up_study(fresh, False, record, space, ["heuristic"])
    assert fresh.trials == [] and "infomorphic" not in fresh.user_attrs


def test_start_search_sets_the_folder_s_study_up_once(tmp_path):
    out = tmp_path / "search"
    settings = search_settings(TINY, 2, sampler="random", out=out, enqueue=["heuristic"])
    opened = start_search(settings)
    assert opened.created and len(opened.study.trials) == 1
    assert json.loads((out / "search.json").read_text()) == settings.to_dict()
    record = opened.study.user_attrs["infomorphic"]
    assert record == setup_record(TINY, opened.space, "random", 1)
    again = start_search(settings)  # a rerun continues the study
    assert not again.created and len(again.study.trials) == 1
    with pytest.raises(ValueError, match="holds the search of study 'search-setup1-random'"):
        start_search(replace(settings, study="another"))
    (out / "study.db").unlink()
    with pytest.raises(ValueError, match="the study was deleted"):
        start_search(settings)


def test_the_record_leaves_where_the_data_lies_out():
    space = GoalSpace.for_config(TINY)
    record = setup_record(replace(TINY, data_dir="/data/mnist"), space, "tpe", 1)
    assert "data_dir" not in record["config"]
    assert record == setup_record(TINY, space, "tpe", 1)


def test_fig6_s_searches_record_their_study_as_infomorphic_search_does(tmp_path):
    """One schema: a study of ``reproduce fig6`` and one of ``infomorphic search`` hold the same
    record (keys and, for the same options, values), and search-report reads them alike."""
    from infomorphic.reproduce.fig6 import _run_search
    from infomorphic.search.locate import SearchTarget
    from infomorphic.search.report import load_study, study_settings

    config = replace(TINY, model="setup1", eval_splits=())
    job = {
        "label": "tpe-1",
        "sampler": "tpe",
        "seed": 1,
        "study": "fig6-tpe-1",
        "folder": str(tmp_path / "fig6"),
        "config": config.to_dict(),
        "trials": 1,
        "threads": 1,
    }
    assert _run_search(job) == {"label": "tpe-1", "completed": 1, "failed": 0}
    fig6 = load_study(SearchTarget(f"sqlite:///{tmp_path / 'fig6' / 'study.db'}", "fig6-tpe-1"))
    settings = search_settings(config, 1, sampler="tpe", out=tmp_path / "cli", study="cli")
    ours = start_search(settings).study
    recorded, wanted = fig6.user_attrs["infomorphic"], ours.user_attrs["infomorphic"]
    assert set(recorded) == set(wanted) and set(recorded["config"]) == set(wanted["config"])
    assert recorded == wanted
    read = study_settings(fig6)
    expected = {**study_settings(ours), "study": "fig6-tpe-1"}
    assert {k: v for k, v in read.items() if k not in ("trials", "train_seconds")} == {
        k: v for k, v in expected.items() if k not in ("trials", "train_seconds")
    }
