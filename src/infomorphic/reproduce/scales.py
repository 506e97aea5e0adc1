"""How big a reproduction is: the scales smoke, quick and paper (torch-free).

``smoke`` tries a target in minutes on built-in data, ``quick`` fits 2 CPU cores on the real
data available offline, ``paper`` is the paper's protocol (docs/reproduce.md, "Scales").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SCALES", "Scale"]


@dataclass(frozen=True)
class Scale:
    """How big a reproduction is.

    ``seeds`` per point, ``epochs`` per run; ``hidden``: the hidden size of the targets at one
    size (the paper's N = 100; the deep networks' sizes scale with it); ``sizes``: the hidden
    sizes of Fig. 3C and 5;
    ``fig8_sizes``: those of Fig. 8; ``long_epochs``: the epochs of the batch-size and bin
    sweeps (Fig. 10, 11: 1000 in the paper); ``search``: (trials, epochs per trial) of each of
    the six Fig. 6 searches; ``retrain_sizes``: the hidden sizes at which Fig. 6's goals are
    trained again; ``dataset``: the data used when none is named (None: the command's own).
    """

    name: str
    seeds: int
    epochs: int
    sizes: tuple[int, ...]
    fig8_sizes: tuple[int, ...] = (100,)
    long_epochs: int = 100
    search: tuple[int, int] = (10, 5)
    retrain_sizes: tuple[int, ...] = (100,)
    dataset: str | None = None
    summary: str = ""
    hidden: int = 100


SCALES = {
    # A look at every target in minutes on 2 cores: one seed, a few epochs, small networks, the
    # built-in real MNIST sample (5,000 digits) unless a data set is named.
    "smoke": Scale(
        "smoke",
        seeds=1,
        epochs=3,
        sizes=(10, 20),
        fig8_sizes=(2, 10),
        long_epochs=4,
        search=(4, 2),
        retrain_sizes=(10, 20),
        dataset="mnist-sample",
        hidden=20,
        summary="1 seed, 3 epochs (4 for Fig. 10/11), N up to 20, built-in data: minutes",
    ),
    # 2 CPU cores, real data available offline (mnist-10k: 8,000 training images).
    "quick": Scale(
        "quick",
        seeds=3,
        epochs=100,
        sizes=(100, 200, 500, 1000),
        fig8_sizes=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
        long_epochs=1000,
        search=(200, 25),
        retrain_sizes=(100, 500),
        summary="3 seeds, 100 epochs (1000 for Fig. 10/11), N up to 1000, six searches of "
        "200 trials x 25 epochs: hours on 2 cores",
    ),
    # The paper's protocol: 10 seeds, 100 epochs (1000 for Fig. 10/11), hidden sizes up to
    # 2,000, six searches of 1,000 trials of 100 epochs (full data; GPUs or long CPU runs).
    "paper": Scale(
        "paper",
        seeds=10,
        epochs=100,
        sizes=(50, 100, 200, 500, 1000, 2000),
        fig8_sizes=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
        long_epochs=1000,
        search=(1000, 100),
        retrain_sizes=(100, 1000),
        summary="10 seeds, the paper's epochs and sizes, full data",
    ),
}
