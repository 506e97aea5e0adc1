"""The names of a run folder's files (torch-free), so the command line can refuse a folder
before torch loads; ``run_folder.RunFolder`` reads and writes them."""

from __future__ import annotations

__all__ = ["ATOMS", "CHECKPOINT", "CONFIG", "HISTORY", "RUN_FILES", "SUMMARY"]

CONFIG = "config.json"
HISTORY = "history.csv"
ATOMS = "atoms.npz"
CHECKPOINT = "checkpoint.pt"
SUMMARY = "summary.json"
#: Every file a run writes, in the order a run writes them.
RUN_FILES = (CONFIG, HISTORY, ATOMS, CHECKPOINT, SUMMARY)
