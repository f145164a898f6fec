#!/usr/bin/env python3
"""Timing baseline: the tutorial's PyTorch flow, for comparison with flowlat.

The model and training step are those of the tutorial notebook
"Introduction to Normalizing Flows for Lattice Field Theory" (Albergo, Kanwar,
Shanahan et al., arXiv:2101.08176), with its exercises filled in the obvious
way. Conventions, the same as flowlat's README:

  S[phi]  = sum_x [ sum_mu phi(x)(2 phi(x) - phi(x+mu) - phi(x-mu))
                    + m2 phi(x)^2 + lambda phi(x)^4 ]
  log p   = -S                      (unnormalised)
  log q   = log r(z) - sum_layers log J_forward
  log w   = log p - log q,   loss = mean(log q - log p),
  ESS     = (sum w)^2 / (N sum w^2)

Unlike flowlat, everything (action, ESS) runs in the network dtype, as in the
tutorial. Usage:

  python3 tools/bench/tutorial_baseline.py --dtype float32 --threads 1 \\
      --train-steps 200 --warmup-steps 20 --sample-configs 8192 --sample-batch 1024

Prints one JSON line on stdout; --print-every K logs training to stderr.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("torch")

import argparse
import json
import resource
import statistics
import time

import numpy as np
import torch  # noqa: F811  (re-import after the interpreter check)

torch_device = "cpu"


def grab(var):
    return var.detach().cpu().numpy()


# ---- the tutorial's code (exercises filled in) --------------------------------

class SimpleNormal:
    def __init__(self, loc, var):  # attributes 'loc' and 'var' determine the shape of the samples drawn
        self.dist = torch.distributions.normal.Normal(
            torch.flatten(loc), torch.flatten(var))
        self.shape = loc.shape

    def log_prob(self, x):
        logp = self.dist.log_prob(x.reshape(x.shape[0], -1))
        return torch.sum(logp, dim=1)

    def sample_n(self, batch_size):
        x = self.dist.sample((batch_size,))
        return x.reshape(batch_size, *self.shape)


class ScalarPhi4Action:
    def __init__(self, M2, lam):
        self.M2 = M2
        self.lam = lam

    def __call__(self, cfgs):  # exercise 3
        action_density = self.M2 * cfgs**2 + self.lam * cfgs**4
        dims = range(1, cfgs.dim())
        for mu in dims:
            action_density += 2 * cfgs**2
            action_density -= cfgs * torch.roll(cfgs, -1, mu)
            action_density -= cfgs * torch.roll(cfgs, 1, mu)
        return torch.sum(action_density, dim=tuple(dims))


def make_checker_mask(shape, parity):
    checker = torch.ones(shape, dtype=torch.uint8) - parity
    checker[::2, ::2] = parity
    checker[1::2, 1::2] = parity
    return checker.to(torch_device)


class AffineCoupling(torch.nn.Module):
    def __init__(self, net, *, mask_shape, mask_parity):
        super().__init__()
        self.mask = make_checker_mask(mask_shape, mask_parity)
        self.net = net

    def forward(self, x):
        x_frozen = self.mask * x
        x_active = (1 - self.mask) * x
        net_out = self.net(x_frozen.unsqueeze(1))
        s, t = net_out[:, 0], net_out[:, 1]
        fx = (1 - self.mask) * t + x_active * torch.exp(s) + x_frozen
        axes = range(1, len(s.size()))
        logJ = torch.sum((1 - self.mask) * s, dim=tuple(axes))
        return fx, logJ

    def reverse(self, fx):  # exercise 4
        fx_frozen = self.mask * fx
        fx_active = (1 - self.mask) * fx
        net_out = self.net(fx_frozen.unsqueeze(1))
        s, t = net_out[:, 0], net_out[:, 1]
        x = (fx_active - (1 - self.mask) * t) * torch.exp(-s) + fx_frozen
        axes = range(1, len(s.size()))
        logJ = torch.sum((1 - self.mask) * (-s), dim=tuple(axes))
        return x, logJ


def make_conv_net(*, hidden_sizes, kernel_size, in_channels, out_channels, use_final_tanh):
    sizes = [in_channels] + hidden_sizes + [out_channels]
    assert kernel_size % 2 == 1, 'kernel size must be odd for PyTorch >= 1.5.0'
    padding_size = (kernel_size // 2)
    net = []
    for i in range(len(sizes) - 1):
        net.append(torch.nn.Conv2d(
            sizes[i], sizes[i+1], kernel_size, padding=padding_size,
            stride=1, padding_mode='circular'))
        if i != len(sizes) - 2:
            net.append(torch.nn.LeakyReLU())
        else:
            if use_final_tanh:
                net.append(torch.nn.Tanh())
    return torch.nn.Sequential(*net)


def make_phi4_affine_layers(*, n_layers, lattice_shape, hidden_sizes, kernel_size):
    layers = []
    for i in range(n_layers):
        parity = i % 2
        net = make_conv_net(
            in_channels=1, out_channels=2, hidden_sizes=hidden_sizes,
            kernel_size=kernel_size, use_final_tanh=True)
        coupling = AffineCoupling(net, mask_shape=lattice_shape, mask_parity=parity)  # exercise 5
        layers.append(coupling)
    return torch.nn.ModuleList(layers)


def apply_flow_to_prior(prior, coupling_layers, *, batch_size):
    x = prior.sample_n(batch_size)
    logq = prior.log_prob(x)
    for layer in coupling_layers:
        x, logJ = layer.forward(x)
        logq = logq - logJ
    return x, logq


def calc_dkl(logp, logq):  # exercise 6
    return (logq - logp).mean()


def compute_ess(logp, logq):  # exercise 7
    logw = logp - logq
    log_ess = 2*torch.logsumexp(logw, dim=0) - torch.logsumexp(2*logw, dim=0)
    ess_per_cfg = torch.exp(log_ess) / len(logw)
    return ess_per_cfg


# The tutorial's train_step reads the batch size from a global; kept that way.
batch_size = 64


def train_step(model, action, loss_fn, optimizer, metrics):
    layers, prior = model['layers'], model['prior']
    optimizer.zero_grad()

    x, logq = apply_flow_to_prior(prior, layers, batch_size=batch_size)
    logp = -action(x)
    loss = calc_dkl(logp, logq)
    loss.backward()

    optimizer.step()

    metrics['loss'].append(grab(loss))
    metrics['logp'].append(grab(logp))
    metrics['logq'].append(grab(logq))
    metrics['ess'].append(grab(compute_ess(logp, logq)))


# ---- benchmark harness ---------------------------------------------------------

def build_model(L, hidden_sizes, n_layers, kernel_size):
    """The tutorial's model dict for an L x L lattice, in the default dtype."""
    lattice_shape = (L, L)
    prior = SimpleNormal(torch.zeros(lattice_shape), torch.ones(lattice_shape))
    layers = make_phi4_affine_layers(
        lattice_shape=lattice_shape, n_layers=n_layers,
        hidden_sizes=hidden_sizes, kernel_size=kernel_size)
    return {'layers': layers, 'prior': prior}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--L", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--layers", type=int, default=16)
    p.add_argument("--hidden", default="8,8", help="comma-separated channels, e.g. 8,8")
    p.add_argument("--kernel", type=int, default=3)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cuda: the tutorial's own GPU set-up (default tensor type on the GPU)")
    p.add_argument("--train-steps", type=int, default=200)
    p.add_argument("--warmup-steps", type=int, default=20)
    p.add_argument("--sample-configs", type=int, default=8192)
    p.add_argument("--sample-batch", type=int, default=1024)
    p.add_argument("--m2", type=float, default=-4.0)
    p.add_argument("--lam", type=float, default=8.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--print-every", type=int, default=0,
                   help="log mean loss/ESS of the last K steps to stderr (0: off)")
    args = p.parse_args(argv)
    args.hidden = [int(h) for h in args.hidden.split(",") if h]
    if min(args.train_steps, args.sample_configs, args.sample_batch, args.batch) < 1:
        p.error("--train-steps, --sample-configs, --sample-batch and --batch must be >= 1")
    return args


def run(args):
    global batch_size, torch_device
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float32 if args.dtype == "float32" else torch.float64)
    torch_device = args.device
    if args.device == "cuda":  # as the tutorial does it
        torch.set_default_tensor_type(torch.cuda.FloatTensor if args.dtype == "float32" else torch.cuda.DoubleTensor)
    torch.manual_seed(args.seed)
    batch_size = args.batch

    model = build_model(args.L, args.hidden, args.layers, args.kernel)
    action = ScalarPhi4Action(M2=args.m2, lam=args.lam)
    optimizer = torch.optim.Adam(model['layers'].parameters(), lr=args.lr)
    history = {'loss': [], 'logp': [], 'logq': [], 'ess': []}

    def log(step):
        if args.print_every and (step + 1) % args.print_every == 0:
            k = args.print_every
            print(f"step {step + 1:6d}  loss {np.mean(history['loss'][-k:]):9.4f}"
                  f"  ess {np.mean(history['ess'][-k:]):.4f}", file=sys.stderr, flush=True)

    for step in range(args.warmup_steps):
        train_step(model, action, calc_dkl, optimizer, history)
        log(step)

    step_ms = []
    t_start = time.perf_counter()
    for step in range(args.warmup_steps, args.warmup_steps + args.train_steps):
        t0 = time.perf_counter()
        train_step(model, action, calc_dkl, optimizer, history)
        step_ms.append(1e3 * (time.perf_counter() - t0))
        log(step)
    train_total_ms = 1e3 * (time.perf_counter() - t_start)

    # Sampling as flowlat's sampler does it: draw, flow, and evaluate log p.
    n_done = 0
    t_start = time.perf_counter()
    with torch.no_grad():
        while n_done < args.sample_configs:
            b = min(args.sample_batch, args.sample_configs - n_done)
            x, logq = apply_flow_to_prior(model['prior'], model['layers'], batch_size=b)
            _logp = -action(x)  # timed: the sampler also needs log p
            n_done += b
    if args.device == "cuda":
        torch.cuda.synchronize()
    sample_s = time.perf_counter() - t_start

    k = min(100, len(history['ess']))
    return {
        "impl": "tutorial-pytorch",
        "L": args.L,
        "batch": args.batch,
        "dtype": args.dtype,
        "threads": args.threads,
        "device": args.device,
        "train_ms_per_step": train_total_ms / args.train_steps,
        "train_ms_per_step_median": statistics.median(step_ms),
        "sample_configs_per_s": args.sample_configs / sample_s,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "ess_last": float(history['ess'][-1]),
        "ess_mean_last_100": float(np.mean(history['ess'][-k:])),
        "loss_mean_last_100": float(np.mean(history['loss'][-k:])),
        "layers": args.layers,
        "hidden": args.hidden,
        "kernel": args.kernel,
        "train_steps": args.train_steps,
        "warmup_steps": args.warmup_steps,
        "sample_configs": args.sample_configs,
        "sample_batch": args.sample_batch,
        "torch": torch.__version__,
    }


def main(argv=None):
    print(json.dumps(run(parse_args(argv))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
