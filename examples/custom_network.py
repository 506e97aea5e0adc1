"""A network of your own from ``InfomorphicLayer``, trained in a plain PyTorch loop.

Two layers on scikit-learn's 8x8 digits (built in, offline): a hidden layer of bivariate neurons
whose goal you write yourself, by atom label, and the paper's output layer (one neuron per class,
the label as its context). Each neuron maximises its own goal; the loss is minus the sum of all
goals, and no error travels from the output layer back to the hidden one: the layers detach
their inputs, so each gradient stays inside its neuron.

    python examples/custom_network.py            # 30 epochs: test accuracy about 0.56
    python examples/custom_network.py --epochs 3 --hidden 16

A bivariate hidden layer without lateral input is the weakest of the paper's designs (its
Fig. 3B); `infomorphic train` builds the stronger ones.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from infomorphic.data import load_dataset
from infomorphic.nn import Goal, InfomorphicLayer

# Your own goal for the hidden neurons, sources F (the pixels) and C (the label): encode what
# the pixels and the label say alike (their redundancy), keep out what only the pixels say, and
# leave everything else alone. Any atom of the two-source lattice may be named.
MY_GOAL = {"{F}{C}": 1.0, "{F}": -0.1}


def build(n_inputs: int, n_hidden: int, n_classes: int) -> tuple[InfomorphicLayer, ...]:
    """The hidden layer (your goal) and the paper's output layer (its goal from Table 1)."""
    hidden = InfomorphicLayer(
        n_inputs,
        n_hidden,
        sources="FC",
        context_features=n_classes,
        activation="bivariate",
        binning="adaptive",
        goal=MY_GOAL,
    )
    output = InfomorphicLayer(
        n_hidden,
        n_classes,
        sources="FC",
        context="one-to-one",  # output neuron j sees label bit j
        activation="output",
        binning="adaptive",
        stochastic=False,
        goal="output",
    )
    return hidden, output


def scores(hidden, output, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Evaluation: no label context; the output neurons' firing probabilities (n, classes)."""
    with torch.no_grad():
        return output(hidden(x, generator=generator).output).theta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    data = load_dataset("digits")  # 1,438 training / 359 test images, pixels 0..16
    mean, std = data.x_train.mean(), data.x_train.std()
    x_train = torch.tensor((data.x_train - mean) / std)
    x_test = torch.tensor((data.x_test - mean) / std)
    y_train, y_test = torch.tensor(data.y_train), torch.tensor(data.y_test)
    onehot = torch.nn.functional.one_hot(y_train, 10).float()

    hidden, output = build(x_train.shape[1], args.hidden, 10)
    print(f"hidden goal: {Goal.resolve(MY_GOAL, ('F', 'C')).describe()}")
    optimiser = torch.optim.Adam([*hidden.parameters(), *output.parameters()], lr=1e-3)
    generator = torch.Generator().manual_seed(args.seed)
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(x_train), generator=generator)
        for batch in order.split(64):
            h = hidden(x_train[batch], onehot[batch], generator=generator)  # label as context
            o = output(h.output, onehot[batch])
            hidden_goals, hidden_atoms = hidden.local_goals(h)  # (N,), (N, atoms + H_res)
            output_goals, _ = output.local_goals(o)
            loss = -(hidden_goals.sum() + output_goals.sum())  # every neuron its own goal
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        if epoch % 10 == 0 or epoch == args.epochs:
            # Each output neuron has learnt to fire for its class or against it; its polarity
            # on the training data says which (the library's readout does the same).
            theta = scores(hidden, output, x_train, generator)
            mine = theta[torch.arange(len(y_train)), y_train].mean()
            polarity = torch.where(theta.mean(0) <= mine, 1.0, -1.0)
            predicted = (scores(hidden, output, x_test, generator) * polarity).argmax(1)
            accuracy = (predicted == y_test).float().mean().item()
            atoms = dict(zip(hidden.goal.labels, hidden_atoms.mean(0).tolist(), strict=True))
            shown = ", ".join(f"{k} {v:.3f}" for k, v in atoms.items())
            print(f"epoch {epoch:3d}: test accuracy {accuracy:.3f}; hidden atoms (bits) {shown}")
    assert np.isfinite(loss.item())


if __name__ == "__main__":
    main()
