"""Goal search with optuna: the space of a hidden goal named by atom (``space``), storages,
samplers and studies (``study``), the search protocol: its settings, opening and setting up
its study (``protocol``), its workers here or on a cluster (``pool``), the kill-safe worker
loop (``worker``), and reports with their figures (``report``, ``figures``). Import the
modules themselves; this package's ``__init__`` imports nothing, so that optuna loads only
when a search runs."""
