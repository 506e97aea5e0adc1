"""Tests for infomorphic.pid.batched: the many-neuron plug-in estimator against dense I_sx.

The reference is each neuron's plug-in histogram p(s, t) = (1/B) sum_i [s_i = s] probs_i(t),
built densely by ``dense_pmf`` of ``conftest.py`` and decomposed by the exact dense ``isx_pid``.
"""

from __future__ import annotations

import pytest
import torch
from conftest import dense_pmf

from infomorphic.pid import BatchedPID, isx_pid, isx_pid_batched, isx_pid_binary, lattice

N_ATOMS = {2: 4, 3: 18, 4: 166}


def make_inputs(n, n_bins, batch, neurons, k, seed, dtype=torch.float64, zeros=False):
    """Clustered bin indices (so that samples share bins) and per-sample target distributions."""
    gen = torch.Generator().manual_seed(seed)
    centre = (n_bins - 1) / 2
    spread = max(n_bins / 6, 0.6)
    raw = torch.randn(n, batch, neurons, generator=gen) * spread + centre
    bins = raw.round().clamp(0, n_bins - 1).long()
    logits = torch.randn(batch, neurons, k, generator=gen, dtype=torch.float64) * 1.5
    probs = torch.softmax(logits, dim=-1)
    if zeros:
        # deterministic samples: half the rows are one-hot, with exact zeros elsewhere
        hot = torch.nn.functional.one_hot(logits.argmax(-1), k).to(torch.float64)
        pick = torch.rand(batch, neurons, 1, generator=gen) < 0.5
        probs = torch.where(pick, hot, probs)
    return bins, probs.to(dtype), logits


def random_goal(n, neurons, seed):
    """A scalar goal: random weights in [-1, 1) on every neuron's atoms and H_res."""
    gen = torch.Generator().manual_seed(seed)
    w_atoms = torch.rand(neurons, N_ATOMS[n], generator=gen, dtype=torch.float64) * 2 - 1
    w_h = torch.rand(neurons, generator=gen, dtype=torch.float64) * 2 - 1

    def goal(atoms, h_res):
        return (w_atoms * atoms).sum() + (w_h * h_res).sum()

    return goal


def dense_reference(bins, probs, n_bins):
    atoms, h_res = [], []
    for j in range(bins.shape[2]):
        res = isx_pid(dense_pmf(bins, probs, j, n_bins))
        atoms.append(res.atoms_tensor)
        h_res.append(res.residual_entropy_tensor)
    return torch.stack(atoms), torch.stack(h_res)


CASES = [
    # n, n_bins, B, N, K
    (2, 3, 40, 4, 2),
    (2, 20, 48, 3, 3),
    (3, 3, 50, 3, 2),
    (3, 4, 60, 3, 3),
    (3, 20, 64, 3, 2),  # pairs and triples (400, 8000 keys > B) take the sort-compaction path
    (3, 20, 64, 2, 3),
    (4, 2, 40, 3, 2),
    (4, 3, 50, 2, 3),  # 3^4 = 81 > B: the full subset is compacted
    (4, 6, 64, 2, 2),  # 6^3 and 6^4 keys > B: compacted
]


@pytest.mark.parametrize("fixed_shapes", [False, True], ids=["groups", "fixed"])
@pytest.mark.parametrize(("n", "n_bins", "batch", "neurons", "k"), CASES)
def test_batched_equals_dense_float64(n, n_bins, batch, neurons, k, fixed_shapes):
    bins, probs, _ = make_inputs(n, n_bins, batch, neurons, k, seed=n * 100 + n_bins + k)
    atoms, h_res = isx_pid_batched(bins, probs, n_bins, fixed_shapes=fixed_shapes)
    assert atoms.shape == (neurons, N_ATOMS[n])
    assert h_res.shape == (neurons,)
    assert atoms.dtype == torch.float64
    ref_atoms, ref_h = dense_reference(bins, probs, n_bins)
    torch.testing.assert_close(atoms, ref_atoms, rtol=0, atol=1e-10)
    torch.testing.assert_close(h_res, ref_h, rtol=0, atol=1e-10)
    # sanity: the reference is not trivial
    assert ref_atoms.abs().max() > 1e-3


@pytest.mark.parametrize(("n", "n_bins", "batch", "neurons", "k"), CASES[:6])
def test_batched_float32_close_to_dense(n, n_bins, batch, neurons, k):
    bins, probs, _ = make_inputs(n, n_bins, batch, neurons, k, seed=7 + n + n_bins)
    atoms, h_res = isx_pid_batched(bins, probs.float(), n_bins)
    assert atoms.dtype == torch.float32
    ref_atoms, ref_h = dense_reference(bins, probs, n_bins)
    torch.testing.assert_close(atoms.double(), ref_atoms, rtol=0, atol=1e-4)
    torch.testing.assert_close(h_res.double(), ref_h, rtol=0, atol=1e-4)


def test_labels_order_and_sum_rule():
    # atoms are in lattice(n).labels order: their sum over all labels is I(T:S) = H(T) - H_res
    bins, probs, _ = make_inputs(3, 5, 80, 4, 2, seed=3)
    atoms, h_res = isx_pid_batched(bins, probs, 5)
    for j in range(4):
        res = isx_pid(dense_pmf(bins, probs, j, 5))
        named = dict(zip(lattice(3).labels, atoms[j].tolist(), strict=True))
        for label, value in res.atoms.items():
            assert named[label] == pytest.approx(value, abs=1e-10)
        assert float(atoms[j].sum() + h_res[j]) == pytest.approx(res.target_entropy, abs=1e-10)


def test_results_are_named_tuples():
    bins, probs, _ = make_inputs(3, 5, 40, 3, 2, seed=5)
    for result in (isx_pid_batched(bins, probs, 5), isx_pid_binary(bins, probs[..., 0], 5)):
        assert isinstance(result, BatchedPID)
        atoms, h_res = result
        assert result.atoms is atoms and result.h_res is h_res
        assert result.atoms.shape == (3, N_ATOMS[3]) and result.h_res.shape == (3,)


def test_int32_bins_and_neuron_permutation():
    bins, probs, _ = make_inputs(3, 20, 50, 5, 2, seed=4)
    atoms, h_res = isx_pid_batched(bins, probs, 20)
    atoms32, h32 = isx_pid_batched(bins.int(), probs, 20)
    torch.testing.assert_close(atoms32, atoms, rtol=0, atol=1e-12)
    perm = torch.tensor([3, 0, 4, 1, 2])
    atoms_p, h_p = isx_pid_batched(bins[:, :, perm], probs[:, perm], 20)
    torch.testing.assert_close(atoms_p, atoms[perm], rtol=0, atol=1e-12)
    torch.testing.assert_close(h_p, h_res[perm], rtol=0, atol=1e-12)


# --- gradients ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "n_bins", "batch", "neurons", "k", "fast"),
    [
        (2, 3, 12, 2, 2, False),
        (3, 5, 10, 1, 2, False),  # 25 and 125 keys > B: compacted groups
        (3, 2, 9, 1, 3, False),
        (4, 2, 8, 1, 2, True),  # 167 outputs: a random projection of the Jacobian suffices
    ],
)
def test_gradcheck_wrt_probs(n, n_bins, batch, neurons, k, fast):
    bins, probs, _ = make_inputs(n, n_bins, batch, neurons, k, seed=11 + n)
    probs = (0.05 + 0.9 * probs) / (0.05 * k + 0.9)  # keep away from 0 so the check is smooth
    probs.requires_grad_(True)

    def f(q):
        # finite-difference probes leave the simplex by eps, so skip the row-sum check
        return isx_pid_batched(bins, q, n_bins, check_inputs=False)

    assert torch.autograd.gradcheck(f, (probs,), eps=1e-6, atol=1e-6, rtol=1e-4, fast_mode=fast)


@pytest.mark.parametrize(
    ("n", "n_bins", "batch", "neurons", "k"),
    [(2, 3, 40, 3, 2), (3, 4, 50, 3, 3), (3, 20, 64, 2, 2), (4, 3, 40, 2, 2)],
)
@pytest.mark.parametrize("fixed_shapes", [False, True], ids=["groups", "fixed"])
def test_gradient_equals_dense_gradient(n, n_bins, batch, neurons, k, fixed_shapes):
    bins, _, logits0 = make_inputs(n, n_bins, batch, neurons, k, seed=31 + n + n_bins)
    goal = random_goal(n, neurons, seed=5)

    # Through logits (probs = softmax): the goals are differentiated with respect to p(t|s) with
    # p(s) a constant (the paper's appendix A.1).
    # The batched estimator holds the source counts fixed, the dense one re-derives p(s) from
    # p(s, t); they agree on the simplex, so their gradients agree along it, and the softmax
    # Jacobian removes the off-simplex component.
    logits_b = logits0.clone().requires_grad_(True)
    probs_b = torch.softmax(logits_b, dim=-1)
    probs_b.retain_grad()
    goal(*isx_pid_batched(bins, probs_b, n_bins, fixed_shapes=fixed_shapes)).backward()

    logits_d = logits0.clone().requires_grad_(True)
    probs_d = torch.softmax(logits_d, dim=-1)
    probs_d.retain_grad()
    goal(*dense_reference(bins, probs_d, n_bins)).backward()

    torch.testing.assert_close(logits_b.grad, logits_d.grad, rtol=0, atol=1e-8)
    assert logits_b.grad.abs().max() > 1e-4

    # w.r.t. probs themselves: equal once projected onto the simplex (row mean removed)
    def tangent(g):
        return g - g.mean(dim=-1, keepdim=True)

    torch.testing.assert_close(tangent(probs_b.grad), tangent(probs_d.grad), rtol=0, atol=1e-8)


def test_float32_backward_is_finite():
    bins, probs, _ = make_inputs(3, 20, 256, 16, 2, seed=41, dtype=torch.float32, zeros=True)
    probs.requires_grad_(True)
    atoms, h_res = isx_pid_batched(bins, probs, 20)
    weights = torch.randn(18, generator=torch.Generator().manual_seed(0))
    ((atoms * weights).sum() + h_res.sum()).backward()
    assert torch.isfinite(atoms).all() and torch.isfinite(h_res).all()
    assert torch.isfinite(probs.grad).all()
    assert probs.grad.abs().sum() > 0


@pytest.mark.parametrize("fixed_shapes", [False, True], ids=["groups", "fixed"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_deterministic_probs_with_exact_zeros(dtype, fixed_shapes):
    bins, probs, _ = make_inputs(3, 4, 60, 3, 2, seed=43, zeros=True)
    assert (probs == 0).any()
    ref_atoms, ref_h = dense_reference(bins, probs, 4)
    probs = probs.to(dtype).requires_grad_(True)
    atoms, h_res = isx_pid_batched(bins, probs, 4, fixed_shapes=fixed_shapes)
    assert_dense_values_and_finite_gradient(atoms, h_res, ref_atoms, ref_h, probs)


def assert_dense_values_and_finite_gradient(atoms, h_res, ref_atoms, ref_h, leaf):
    """Inputs with exact zeros (and ones): the dense reference's values (to float32's or
    float64's precision) and a finite gradient, although some logs see zero masses."""
    tol = 1e-10 if atoms.dtype == torch.float64 else 1e-4
    torch.testing.assert_close(atoms.double(), ref_atoms, rtol=0, atol=tol)
    torch.testing.assert_close(h_res.double(), ref_h, rtol=0, atol=tol)
    (atoms.sum() - h_res.sum()).backward()
    assert torch.isfinite(leaf.grad).all()


def test_fixed_shapes_do_not_depend_on_the_data():
    """Two batches with very different numbers of distinct keys give identically shaped group
    structures (what torch.compile and CUDA graphs need), and padding adds no mass."""
    from infomorphic.pid.batched import group_structure

    few = torch.zeros(3, 64, 5, dtype=torch.long)  # one group per neuron
    many, _, _ = make_inputs(3, 20, 64, 5, 2, seed=3)
    structures = [group_structure(b, 20, torch.float64, fixed_shapes=True) for b in (few, many)]
    for name in ("inverse", "slots", "group_neuron", "union_count"):
        assert getattr(structures[0], name).shape == getattr(structures[1], name).shape
    assert structures[0].n_slots == structures[1].n_slots
    # padded to one group per sample
    assert structures[0].union_count.shape[1] == 64 * 5
    dynamic = group_structure(many, 20, torch.float64)
    assert dynamic.group_neuron.numel() < 64 * 5


@pytest.mark.parametrize(("n", "n_bins"), [(2, 20), (3, 20), (4, 3)])
def test_fixed_shapes_compile_to_one_graph(n, n_bins):
    """The lattice constants enter the graph as constants (n = 4 after its first eager call);
    aot_eager runs the traced graph, so the atoms must equal the eager ones."""
    torch._dynamo.reset()
    bins, probs, _ = make_inputs(n, n_bins, 64, 5, 2, seed=7)
    eager, eager_h = isx_pid_batched(bins, probs, n_bins)

    def estimate(b, q):
        return isx_pid_batched(b, q, n_bins, check_inputs=False, fixed_shapes=True)

    compiled = torch.compile(estimate, backend="aot_eager", fullgraph=True, dynamic=False)
    result = compiled(bins, probs)
    assert isinstance(result, BatchedPID)
    atoms, h_res = result
    torch.testing.assert_close(atoms, eager, rtol=0, atol=1e-12)
    torch.testing.assert_close(h_res, eager_h, rtol=0, atol=1e-12)


def test_compiling_before_the_first_n4_call_says_what_to_do(monkeypatch):
    """n = 4 constants are built on the first eager call (0.15 s, too slow for import); a
    compile before it must name the fix, not fail inside dynamo's tracing of NumPy."""
    import infomorphic.pid.batched as batched

    monkeypatch.setattr(
        batched, "_CONSTANTS", {k: v for k, v in batched._CONSTANTS.items() if k < 4}
    )
    torch._dynamo.reset()
    bins, probs, _ = make_inputs(4, 3, 32, 2, 2, seed=11)

    def estimate(b, q):
        return isx_pid_batched(b, q, 3, check_inputs=False, fixed_shapes=True)

    compiled = torch.compile(estimate, backend="aot_eager", fullgraph=True, dynamic=False)
    with pytest.raises(Exception, match="run isx_pid_batched once on 4 sources without"):
        compiled(bins, probs)
    torch._dynamo.reset()


def test_import_does_not_load_the_compiler():
    """Importing the estimator stays cheap: no torch._dynamo (about 1 s and 70 MB)."""
    import subprocess
    import sys

    code = "import sys, infomorphic.pid; print('torch._dynamo' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_fully_deterministic_target():
    # every sample one-hot and T a function of S: H_res = 0 and I(T:S) = H(T)
    bins, _, _ = make_inputs(2, 3, 30, 2, 2, seed=47)
    t = (bins[0] + bins[1]) % 2
    probs = torch.nn.functional.one_hot(t, 2).double().requires_grad_(True)
    atoms, h_res = isx_pid_batched(bins, probs, 3)
    torch.testing.assert_close(h_res, torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-12)
    ref_atoms, _ = dense_reference(bins, probs.detach(), 3)
    torch.testing.assert_close(atoms, ref_atoms, rtol=0, atol=1e-10)
    atoms.sum().backward()
    assert torch.isfinite(probs.grad).all()


# --- validation ---------------------------------------------------------------------------------


def valid(n=3, n_bins=4, batch=10, neurons=2, k=2):
    bins, probs, _ = make_inputs(n, n_bins, batch, neurons, k, seed=53)
    return bins, probs


def _out_of_range_high():
    bins, probs = valid()
    bins[1, 2, 0] = 4
    return bins, probs, 4


def _out_of_range_low():
    bins, probs = valid()
    bins[0, 0, 1] = -1
    return bins, probs, 4


def _row_off():
    bins, probs = valid()
    probs = probs.clone()
    probs[3, 1, 0] += 0.01
    return bins, probs, 4


def _nan():
    bins, probs = valid()
    probs = probs.clone()
    probs[0, 0, 0] = float("nan")
    return bins, probs, 4


def _negative():
    bins, probs = valid(k=2)
    probs = probs.clone()
    probs[0, 0] = torch.tensor([-0.5, 1.5], dtype=probs.dtype)
    return bins, probs, 4


INVALID = {
    "bins too high": (_out_of_range_high, r"bins must lie in \[0, n_bins\)"),
    "bins negative": (_out_of_range_low, r"found -1"),
    "float bins": (lambda: (valid()[0].double(), valid()[1], 4), "integer tensor"),
    "mismatched B": (lambda: (valid(batch=10)[0], valid(batch=11)[1], 4), "disagree on B or N"),
    "mismatched N": (lambda: (valid(neurons=2)[0], valid(neurons=3)[1], 4), "disagree on B or N"),
    "bins 2-d": (lambda: (valid()[0][0], valid()[1], 4), r"bins must have shape \(n_sources"),
    "probs 2-d": (lambda: (valid()[0], valid()[1][..., 0], 4), r"probs must have shape \(B, N"),
    "rows off": (_row_off, "must sum to 1"),
    "nan probs": (_nan, "NaN"),
    "negative probs": (_negative, r"\[0, 1\]"),
    "one source": (lambda: (valid()[0][:1], valid()[1], 4), "2 to 4 sources"),
    "five sources": (lambda: (valid(n=5)[0], valid(n=5)[1], 4), "2 to 4 sources"),
    "not tensors": (lambda: (valid()[0].numpy(), valid()[1], 4), "torch tensors"),
    "integer probs": (lambda: (valid()[0], valid()[1].long(), 4), "floating point"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_inputs(case):
    make, fragment = INVALID[case]
    bins, probs, n_bins = make()
    with pytest.raises(ValueError, match=fragment):
        isx_pid_batched(bins, probs, n_bins)


def test_check_inputs_false_skips_validation():
    bins, probs, n_bins = _row_off()
    with pytest.raises(ValueError):
        isx_pid_batched(bins, probs, n_bins)
    atoms, h_res = isx_pid_batched(bins, probs, n_bins, check_inputs=False)
    assert atoms.shape == (2, 18)
    assert torch.isfinite(atoms).all()
    bins, probs, n_bins = _nan()
    atoms, _ = isx_pid_batched(bins, probs, n_bins, check_inputs=False)
    assert torch.isnan(atoms[0]).any()  # garbage in, garbage out: no exception


# --- the binary-target fast path (one scatter of theta) ----------------------------------------


def binary_inputs(n, n_bins, batch, neurons, seed, zeros=False):
    bins, probs, _ = make_inputs(n, n_bins, batch, neurons, 2, seed=seed, zeros=zeros)
    return bins, probs[..., 0].clone()


@pytest.mark.parametrize(
    ("n", "n_bins", "batch", "neurons"),
    [(2, 3, 40, 3), (2, 20, 48, 2), (3, 4, 60, 3), (3, 20, 64, 3), (4, 3, 50, 2)],
)
@pytest.mark.parametrize("fixed_shapes", [False, True], ids=["groups", "fixed"])
def test_binary_equals_dense(n, n_bins, batch, neurons, fixed_shapes):
    bins, theta = binary_inputs(n, n_bins, batch, neurons, seed=61 + n + n_bins)
    atoms, h_res = isx_pid_binary(bins, theta, n_bins, fixed_shapes=fixed_shapes)
    probs = torch.stack([theta, 1 - theta], dim=-1)
    ref_atoms, ref_h = dense_reference(bins, probs, n_bins)
    torch.testing.assert_close(atoms, ref_atoms, rtol=0, atol=1e-10)
    torch.testing.assert_close(h_res, ref_h, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("n", "n_bins", "batch", "neurons"), [(2, 3, 40, 3), (3, 20, 64, 2), (4, 3, 40, 2)]
)
@pytest.mark.parametrize("fixed_shapes", [False, True], ids=["groups", "fixed"])
def test_binary_gradient_equals_dense_gradient(n, n_bins, batch, neurons, fixed_shapes):
    # theta is a free coordinate of the binary simplex, so these gradients must agree exactly
    bins, theta0 = binary_inputs(n, n_bins, batch, neurons, seed=71 + n)
    goal = random_goal(n, neurons, seed=9)

    theta_b = theta0.clone().requires_grad_(True)
    goal(*isx_pid_binary(bins, theta_b, n_bins, fixed_shapes=fixed_shapes)).backward()
    theta_d = theta0.clone().requires_grad_(True)
    probs = torch.stack([theta_d, 1 - theta_d], dim=-1)
    goal(*dense_reference(bins, probs, n_bins)).backward()
    torch.testing.assert_close(theta_b.grad, theta_d.grad, rtol=0, atol=1e-8)
    assert theta_b.grad.abs().max() > 1e-4


def test_binary_gradcheck_and_partial_outputs():
    bins, theta = binary_inputs(3, 5, 10, 1, seed=81)
    theta = (0.05 + 0.9 * theta).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda q: isx_pid_binary(bins, q, 5, check_inputs=False), (theta,), eps=1e-6, atol=1e-6
    )
    # only one of the two outputs used: the other's gradient is treated as zero
    atoms, _ = isx_pid_binary(bins, theta, 5)
    (g_atoms,) = torch.autograd.grad(atoms[:, 3].sum(), theta)
    atoms_b, _ = isx_pid_batched(bins, torch.stack([theta, 1 - theta], dim=-1), 5)
    (g_ref,) = torch.autograd.grad(atoms_b[:, 3].sum(), theta)
    torch.testing.assert_close(g_atoms, g_ref, rtol=0, atol=1e-9)
    _, h_res = isx_pid_binary(bins, theta, 5)
    (g_h,) = torch.autograd.grad(h_res.sum(), theta)
    _, h_ref = isx_pid_batched(bins, torch.stack([theta, 1 - theta], dim=-1), 5)
    (g_h_ref,) = torch.autograd.grad(h_ref.sum(), theta)
    torch.testing.assert_close(g_h, g_h_ref, rtol=0, atol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_binary_with_exact_zeros_and_ones(dtype):
    bins, theta = binary_inputs(3, 4, 60, 3, seed=83, zeros=True)
    assert ((theta == 0) | (theta == 1)).any()
    ref_atoms, ref_h = dense_reference(bins, torch.stack([theta, 1 - theta], dim=-1), 4)
    theta = theta.to(dtype).requires_grad_(True)
    atoms, h_res = isx_pid_binary(bins, theta, 4)
    assert_dense_values_and_finite_gradient(atoms, h_res, ref_atoms, ref_h, theta)


def test_binary_validates_inputs():
    bins, theta = binary_inputs(3, 4, 10, 2, seed=85)
    with pytest.raises(ValueError, match=r"bins must lie in \[0, n_bins\)"):
        isx_pid_binary(bins, theta, 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        isx_pid_binary(bins, theta + 1.5, 4)
    with pytest.raises(ValueError, match=r"theta must be a tensor of shape \(B, N\)"):
        isx_pid_binary(bins, theta[..., None], 4)
    with pytest.raises(ValueError, match=r"theta must be a tensor of shape \(B, N\)"):
        isx_pid_binary(bins, theta.tolist(), 4)


def test_binary_float32_gradient_keeps_saturated_groups_accurate():
    # Large groups of nearly saturated neurons: a group's mass of not firing is count - fired,
    # which loses its digits if fired is summed in float32 (this case's error was 2.1e-5 of the
    # largest gradient then, 1.6e-6 with float64 sums). The float64 run gets the float32
    # inputs exactly, so that both differentiate the same function at the same point.
    gen = torch.Generator().manual_seed(2)
    batch, neurons = 1024, 100
    bins = torch.stack([torch.randint(0, hi, (batch, neurons), generator=gen) for hi in (17, 2, 3)])
    theta32 = torch.sigmoid(6 * torch.randn(batch, neurons, generator=gen))
    weights = torch.randn(18, generator=gen, dtype=torch.float64)
    grads = []
    for dtype in (torch.float64, torch.float32):
        theta = theta32.to(dtype).detach().clone().requires_grad_(True)
        atoms, h_res = isx_pid_binary(bins, theta, 20)
        (atoms.sum(0) @ weights.to(dtype) + h_res.sum()).backward()
        grads.append(theta.grad.double())
    scale = grads[0].abs().max()
    assert scale > 1e-4
    assert (grads[1] - grads[0]).abs().max() < 5e-6 * scale
