"""Adam for the eager CPU step, without ``torch.optim``.

``torch.optim.Optimizer`` imports ``torch._dynamo`` on its first step, zero_grad or state_dict
(1.3-2.7 s and about 70 MB for every training process, although nothing is compiled). This is
the same update as ``torch.optim.Adam``'s single-tensor path (the one it takes on a CPU):
coupled L2 weight decay, ``lerp`` for the first moment, bias corrections from a float step
count; the tests check it bit for bit against torch's. Its ``state_dict`` has torch's layout,
so checkpoints load in either. GPUs and compiled steps keep ``torch.optim.Adam`` (fused).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

__all__ = ["EagerAdam", "make_adam"]


class EagerAdam:
    """Adam over ``params`` with one learning rate and weight decay (one parameter group)."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        # torch.optim's layout: one dict of hyper-parameters of mixed types
        self.defaults: dict[str, Any] = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
        }
        self.state: list[dict[str, torch.Tensor]] = [{} for _ in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        lr, (beta1, beta2) = self.defaults["lr"], self.defaults["betas"]
        eps, decay = self.defaults["eps"], self.defaults["weight_decay"]
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is None:
                continue
            if not state:
                state["step"] = torch.tensor(0.0)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            grad = p.grad if decay == 0 else p.grad.add(p, alpha=decay)
            state["step"] += 1
            state["exp_avg"].lerp_(grad, 1 - beta1)
            state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step = state["step"].item()
            correction1 = 1 - beta1**step
            correction2_sqrt = (1 - beta2**step) ** 0.5
            denom = (state["exp_avg_sq"].sqrt() / correction2_sqrt).add_(eps)
            p.addcdiv_(state["exp_avg"], denom, value=-(lr / correction1))

    def state_dict(self) -> dict[str, Any]:
        """torch.optim.Adam's layout: ``state`` by parameter index, one ``param_groups`` entry."""
        group = {
            **self.defaults,
            "amsgrad": False,
            "maximize": False,
            "foreach": None,
            "capturable": False,
            "differentiable": False,
            "fused": None,
            "decoupled_weight_decay": False,
            "params": list(range(len(self.params))),
        }
        return {
            "state": {i: dict(s) for i, s in enumerate(self.state) if s},
            "param_groups": [group],
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        for index, p in enumerate(self.params):
            state = saved["state"].get(index, {})
            self.state[index] = {
                k: (v.cpu() if k == "step" else v.to(p.device)) for k, v in state.items()
            }


def make_adam(
    params: Iterable[torch.nn.Parameter],
    lr: float,
    weight_decay: float,
    device: torch.device,
    compiled: bool = False,
) -> Any:
    """``EagerAdam`` on a CPU, ``torch.optim.Adam`` (fused on a GPU) otherwise."""
    if device.type == "cpu" and not compiled:
        return EagerAdam(params, lr=lr, weight_decay=weight_decay)
    fused = True if device.type == "cuda" else None
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused)
