#!/usr/bin/env python3
"""Training steps of the continuous flow in plain PyTorch, for a same-model race with `flowlat train`.

    python3 tools/bench/ode_speed.py MODEL.pt --m2 -4 --lam 4.572 --batch 128 --steps 10 [--threads 1]

Rebuilds the flow of a flowlat model file with tools/flowlat_model.py (the same layers: symmetric
Fourier layer, the continuous layer with its global kernel, couplings), makes its parameters
trainable and takes reverse-KL Adam steps on batches of prior draws in float32, with the phi^4
action of the given couplings. Models without coupling layers only. Prints ms per step
(median of the steps after the first). Compare with `flowlat train` on one rank with the same
batch and threads (its history.csv has the seconds of every step); README: flows near the
critical point, speed.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from debian_python import use_debian_python  # noqa: E402

use_debian_python("torch")

import json  # noqa: E402

import torch  # noqa: E402

import flowlat_model  # noqa: E402


def action(phi, m2, lam):
    """S of the README (no 1/2 in the kinetic term), float64 [B]."""
    phi = phi.to(torch.float64)
    kinetic = 0
    for mu in range(1, phi.dim()):
        kinetic = kinetic + phi * (2 * phi - torch.roll(phi, 1, mu) - torch.roll(phi, -1, mu))
    return (kinetic + m2 * phi ** 2 + lam * phi ** 4).flatten(1).sum(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--m2", type=float, required=True)
    p.add_argument("--lam", type=float, required=True)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    archive = torch.jit.load(args.model, map_location="cpu")
    architecture = json.loads(archive.flowlat_architecture)
    if architecture["n_layers"] != 0:
        p.error("a model without coupling layers (flow.n_layers: 0) is needed")
    live = {name: t.detach().to(torch.float32).clone().requires_grad_(True)
            for name, t in archive.named_parameters()}
    flow = flowlat_model.Flow(architecture, live, torch.float32)
    optimizer = torch.optim.Adam(list(live.values()), lr=1e-4)
    seconds = []
    for _ in range(args.steps):
        start = time.perf_counter()
        # Flow keeps detached copies: point its layers at the trainable tensors.
        if flow.fourier is not None:
            flow.fourier = flowlat_model.FourierLayer(live["fourier.log_sigma"].to(torch.float64),
                                                      architecture["fourier_layer"])
        if flow.ode is not None:
            flow.ode.kernel, flow.ode.omega = live["ode.kernel"], live["ode.frequencies"]
            flow.ode.mixing = live["ode.mixing"] / live["ode.mixing"].shape[1]
        x, log_q = flow._forward(torch.randn([args.batch] + flow.shape))
        loss = (log_q + action(x, args.m2, args.lam)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds.append(time.perf_counter() - start)
    print(f"plain PyTorch: {1e3 * statistics.median(seconds[1:]):.1f} ms/step "
          f"(batch {args.batch}, {args.threads} thread(s), {args.steps - 1} steps timed)")


if __name__ == "__main__":
    main()
