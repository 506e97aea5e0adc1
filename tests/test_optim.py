"""EagerAdam against torch.optim.Adam (the oracle): the same updates bit for bit, the same
state_dict layout in both directions."""

from __future__ import annotations

import torch

from infomorphic.training.optim import EagerAdam


def _params(seed: int) -> list[torch.nn.Parameter]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(shape, generator=gen)) for shape in ((7, 5), (5,))]


def _grads(params, step: int) -> None:
    gen = torch.Generator().manual_seed(100 + step)
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen)


def test_updates_equal_torch_adam_bit_for_bit():
    for decay in (0.0, 0.00035):
        ours, theirs = _params(0), _params(0)
        mine = EagerAdam(ours, lr=0.002, weight_decay=decay)
        torch_adam = torch.optim.Adam(theirs, lr=0.002, weight_decay=decay)
        for step in range(200):
            _grads(ours, step)
            _grads(theirs, step)
            mine.step()
            torch_adam.step()
            mine.zero_grad()
            torch_adam.zero_grad()
        for a, b in zip(ours, theirs, strict=True):
            assert torch.equal(a, b)


def test_state_dicts_load_both_ways():
    ours, theirs = _params(1), _params(1)
    mine = EagerAdam(ours, lr=0.003, weight_decay=0.00015)
    torch_adam = torch.optim.Adam(theirs, lr=0.003, weight_decay=0.00015)
    for step in range(3):
        _grads(ours, step)
        _grads(theirs, step)
        mine.step()
        torch_adam.step()
    # our state into torch's optimiser and torch's into ours, then both go on alike
    swapped_torch = torch.optim.Adam(theirs, lr=0.003, weight_decay=0.00015)
    swapped_torch.load_state_dict(mine.state_dict())
    swapped_mine = EagerAdam(ours, lr=0.003, weight_decay=0.00015)
    swapped_mine.load_state_dict(torch_adam.state_dict())
    for step in range(3, 6):
        _grads(ours, step)
        _grads(theirs, step)
        swapped_mine.step()
        swapped_torch.step()
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)
    assert swapped_mine.state_dict()["state"][0]["step"].item() == 6
