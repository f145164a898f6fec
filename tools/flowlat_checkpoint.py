#!/usr/bin/env python3
"""A flowlat training checkpoint (checkpoint.ckpt) in PyTorch.

    import sys; sys.path.insert(0, "tools")
    import flowlat_checkpoint
    ckpt = flowlat_checkpoint.load("runs/phi4_L8/checkpoint.ckpt")
    ckpt["step"], ckpt["config"], ckpt["history"]       # int, YAML text, tensor [step, 7] (HISTORY_COLUMNS)
    ckpt["model"]["fourier.log_sigma"]                   # the flow's parameters by name

The file is flowlat's checksummed container (src/io/CheckpointFile.hpp):

    flowlat-checkpoint 1\\n
    bytes <payload size>\\n
    checksum fnv1a64:<16 hex digits of the payload>\\n
    \\n<payload>

and the payload is a LibTorch archive that torch.jit.load opens. load()
checks the header, the size and the checksum first (a truncated or damaged
file raises ValueError naming the file), then returns the archive's values
as plain Python: `torch.load` cannot open the container itself, because the
checksum header must come first for flowlat to recognise a damaged file
before it reads it.

As python3 -m / script: `python3 tools/flowlat_checkpoint.py FILE` prints a summary.
"""
import io
import os
import sys

if __name__ == "__main__":  # as a script: python3 on PATH (pyenv, a venv) may lack python3-torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from debian_python import use_debian_python
    use_debian_python("torch")

import torch

MAGIC = b"flowlat-checkpoint 1"
FNV_OFFSET = 1469598103934665603
FNV_PRIME = 1099511628211
HISTORY_COLUMNS = ("loss", "ess", "seconds", "skipped", "lr", "eval_ess", "eval_acceptance")  # row i: step i + 1


def fnv1a64(data):
    """FNV-1a, 64 bit, as flowlat's FileChecksum.cpp computes it."""
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value


def verified_payload(path):
    """The archive bytes of a checkpoint file, after checking header, size and checksum."""
    with open(path, "rb") as f:
        raw = f.read()
    end = raw.find(b"\n\n")
    lines = raw[:end].split(b"\n") if end >= 0 else []
    if len(lines) != 3 or lines[0] != MAGIC or not lines[1].startswith(b"bytes ") \
            or not lines[2].startswith(b"checksum fnv1a64:"):
        raise ValueError(f"{path}: not a flowlat checkpoint (expected the header '{MAGIC.decode()}')")
    payload = raw[end + 2:]
    size = int(lines[1].split()[1])
    if len(payload) != size:
        raise ValueError(f"{path}: truncated or padded: {len(payload)} payload bytes, the header says {size}")
    stored = lines[2].split(b":", 1)[1].decode()
    actual = f"{fnv1a64(payload):016x}"
    if actual != stored:
        raise ValueError(f"{path}: checksum mismatch (stored fnv1a64:{stored}, file has fnv1a64:{actual})")
    return payload


def _tensors(module, kind):
    named = module.named_parameters() if kind == "parameters" else module.named_buffers()
    return {name: value.detach().clone() for name, value in named}


def load(path):
    """The checkpoint's contents as a dict (see the module docstring); raises ValueError if damaged."""
    archive = torch.jit.load(io.BytesIO(verified_payload(path)), map_location="cpu")
    result = {key: getattr(archive, key) for key in
              ("format", "format_version", "config", "step", "n_ranks", "train_seconds",
               "consecutive_skips", "history", "generator_states")}
    result["history_columns"] = HISTORY_COLUMNS
    result["model"] = _tensors(archive.model, "parameters")
    result["model"].update(_tensors(archive.model, "buffers"))
    result["optimizer"] = _tensors(archive.optimizer, "buffers")
    result["optimizer"].update(_tensors(archive.optimizer, "parameters"))
    if hasattr(archive, "best_ess"):
        result["best_ess"] = archive.best_ess
        result["best_step"] = archive.best_step
        best, i = [], 0
        while hasattr(archive, f"best_{i}"):
            best.append(getattr(archive, f"best_{i}"))
            i += 1
        result["best_parameters"] = best   # in the order of result["model"]'s parameters
    return result


def main(argv):
    if len(argv) != 2:
        print("usage: flowlat_checkpoint.py CHECKPOINT", file=sys.stderr)
        return 2
    try:
        ckpt = load(argv[1])
    except (ValueError, OSError) as error:
        print(f"flowlat_checkpoint: error: {error}", file=sys.stderr)
        return 1
    print(f"{argv[1]}: step {ckpt['step']}, {ckpt['n_ranks']} rank(s), {ckpt['train_seconds']:.1f} s trained, "
          f"{len(ckpt['model'])} model tensors"
          + (f", best held-out ESS {ckpt['best_ess']:.4f} at step {ckpt['best_step']}" if "best_ess" in ckpt else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
