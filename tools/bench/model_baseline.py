#!/usr/bin/env python3
"""Sampling baseline: a trained flowlat model run by PyTorch (tools/flowlat_model.py).

The same model as `flowlat sample` runs, layer for layer (flowlat_model.py
rebuilds it from the model file and its log q equals the C++ one), so the
race against flowlat is one of implementations, not of architectures. Timed
as flowlat's sampler works: prior draws, the flow with log q reduced in
float64, and log p = -S in float64 (README's action), for --configs
configurations in batches of --batch, without autograd. flowlat's rate also
includes its HDF5 writes; this one writes nothing.

  python3 tools/bench/model_baseline.py --model runs/x/model.pt --m2 -4 --lam 8 \\
      --configs 65536 --batch 1024 --dtype float32 --threads 1

Prints one JSON line on stdout.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from debian_python import use_debian_python  # noqa: E402

if __name__ == "__main__":
    use_debian_python("torch")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

import flowlat_model  # noqa: E402


def action(x, m2, lam):
    """S[phi] in float64 for x [n, L1, ..., Ld] (README: conventions)."""
    phi = x.to(torch.float64)
    kinetic = sum(phi * (2 * phi - torch.roll(phi, 1, d) - torch.roll(phi, -1, d)) for d in range(1, phi.dim()))
    return (kinetic + m2 * phi ** 2 + lam * phi ** 4).flatten(1).sum(1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--m2", type=float, required=True)
    p.add_argument("--lam", type=float, required=True)
    p.add_argument("--configs", type=int, default=65536)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    flow = flowlat_model.load(args.model, dtype=getattr(torch, args.dtype))
    generator = torch.Generator().manual_seed(1)
    flow.sample(min(args.batch, args.configs), generator=generator)  # warm-up: allocations, first calls
    done = 0
    start = time.perf_counter()
    with torch.no_grad():
        while done < args.configs:
            b = min(args.batch, args.configs - done)
            x, _log_q = flow.sample(b, generator=generator)
            _log_p = -action(x, args.m2, args.lam)
            done += b
    seconds = time.perf_counter() - start
    print(json.dumps({"impl": "flowlat_model.py", "configs": args.configs, "batch": args.batch, "dtype": args.dtype,
                      "threads": args.threads, "sample_configs_per_s": args.configs / seconds,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
