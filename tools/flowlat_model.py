#!/usr/bin/env python3
"""A trained flowlat model in PyTorch, rebuilt from the architecture its file records.

    import sys; sys.path.insert(0, "tools")
    import flowlat_model
    flow = flowlat_model.load("runs/phi4_L8/model.pt", dtype=torch.float64)
    x, log_q = flow.sample(1024)          # configurations [n, L1, ..., Ld] and log q(x)
    log_q = flow.log_prob(x)              # log q of any configurations

The model file is the LibTorch archive `flowlat train` writes (model.pt,
model_best.pt): torch.jit.load reads its parameters and the JSON string
`flowlat_architecture`; this module implements the same layers as the C++
code (README: flow quality) with LibTorch's reference operations: the Gaussian
prior, the Fourier layer (diagonal or symmetric), the continuous layer with a
global symmetric kernel, affine and rational-quadratic spline couplings on
checkerboard masks with circular CNNs, Z2 equivariance and symmetrisation.
log q is reduced in float64 as in flowlat; with dtype=torch.float64 it equals
the C++ log q to rounding (tests/python/test_model.py: 1e-10). Samples come
from torch's generator, not flowlat's keyed streams: the same distribution,
not the same configurations as `flowlat sample`.

Sign conventions as in the README: log q(x) = log r(z) - log |det dx/dz|.

As a script: `python3 tools/flowlat_model.py MODEL` prints a summary of the
model (lattice, layers, parameter count, precision); for a file that is no
model (a checkpoint, an ensemble, text, missing) it says what the file is and
exits with status 2, as argparse does without arguments.
"""
import itertools
import json
import math
import os
import sys

if __name__ == "__main__":  # as a script: python3 on PATH (pyenv, a venv) may lack python3-torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from debian_python import use_debian_python
    use_debian_python("torch")

import torch
import torch.nn.functional as F

MIN_BIN_FRACTION = 1e-3   # RationalQuadraticSpline.hpp
MIN_DERIVATIVE = 1e-3


def checkerboard(shape, parity):
    """1 on the frozen sites of a coupling layer of this parity (Lattice::checkerboard)."""
    total = torch.zeros(shape, dtype=torch.int64)
    for axis, extent in enumerate(shape):
        view = [1] * len(shape)
        view[axis] = extent
        total = total + torch.arange(extent).view(view)
    even = total % 2 == 0
    return (~even if parity == 0 else even).to(torch.float64)


class ConvNet(torch.nn.Module):
    """Circular convolutions with LeakyReLU between them and an optional final tanh (ConvNet.cpp)."""

    def __init__(self, weights, biases, final_tanh):
        super().__init__()
        self.weights, self.biases, self.final_tanh = weights, biases, final_tanh

    def forward(self, x):  # x [B, C, L1, ..., Ld]
        dim = x.dim() - 2
        conv = (F.conv1d, F.conv2d, F.conv3d)[dim - 1]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            pad = w.shape[-1] // 2
            x = conv(F.pad(x, [pad] * (2 * dim), mode="circular"), w, b)
            if i + 1 < len(self.weights):
                x = F.leaky_relu(x, 0.01)
        return torch.tanh(x) if self.final_tanh else x


def rational_quadratic_spline(x, params, bins, bound, inverse):
    """The spline of RationalQuadraticSpline.cpp: identity outside [-bound, bound]."""
    def knots(raw):
        fractions = MIN_BIN_FRACTION + (1 - MIN_BIN_FRACTION * bins) * torch.softmax(raw, -1)
        inner = 2 * bound * torch.cumsum(fractions, -1)[..., :bins - 1] - bound
        end = torch.ones_like(raw[..., :1])
        return torch.cat([-bound * end, inner, bound * end], -1)

    shift = math.log(math.expm1(1.0 - MIN_DERIVATIVE))
    xk, yk = knots(params[..., :bins]), knots(params[..., bins:2 * bins])
    ones = torch.ones_like(params[..., :1])
    d = torch.cat([ones, MIN_DERIVATIVE + F.softplus(params[..., 2 * bins:] + shift), ones], -1)
    inside = (x >= -bound) & (x <= bound)
    v = x.clamp(-bound, bound).unsqueeze(-1)
    search = yk if inverse else xk
    index = torch.searchsorted(search[..., 1:bins].contiguous(), v, right=True)

    def at(values, i):
        return values.gather(-1, i).squeeze(-1)
    x0, y0 = at(xk, index), at(yk, index)
    width, height = at(xk, index + 1) - x0, at(yk, index + 1) - y0
    d0, d1 = at(d, index), at(d, index + 1)
    slope = height / width
    curvature = d1 + d0 - 2 * slope
    if not inverse:
        theta = (v.squeeze(-1) - x0) / width
        mixed = theta * (1 - theta)
        y = y0 + height * (slope * theta * theta + d0 * mixed) / (slope + curvature * mixed)
    else:
        offset = v.squeeze(-1) - y0
        a = height * (slope - d0) + offset * curvature
        b = height * d0 - offset * curvature
        c = -slope * offset
        theta = (2 * c) / (-b - torch.sqrt((b * b - 4 * a * c).clamp_min(0)))
        y = x0 + theta * width
    mixed = theta * (1 - theta)
    denominator = slope + curvature * mixed
    derivative = slope * slope * (d1 * theta * theta + 2 * slope * mixed + d0 * (1 - theta) ** 2) / denominator ** 2
    log_det = -torch.log(derivative) if inverse else torch.log(derivative)
    return torch.where(inside, y, x), torch.where(inside, log_det, torch.zeros_like(log_det))


class Coupling(torch.nn.Module):
    """An affine or spline coupling layer (AffineCoupling, SplineCoupling, CouplingNet)."""

    def __init__(self, kind, net, shape, parity, equivariance, bins, bound):
        super().__init__()
        self.kind, self.net, self.equivariance = kind, net, equivariance
        self.bins, self.bound = bins, bound
        self.frozen = checkerboard(shape, parity)
        if kind == "affine":   # phi -> -phi: the scale stays, the shift changes sign
            self.source, self.sign = [0, 1], [1.0, -1.0]
        else:                  # the spline of -x: each group of bins reversed
            self.source = ([bins - 1 - i for i in range(bins)] + [2 * bins - 1 - i for i in range(bins)]
                           + [3 * bins - 2 - i for i in range(bins - 1)])
            self.sign = [1.0] * (3 * bins - 1)

    def outputs(self, x):
        """The network's outputs on every site, channels last: [B, L1, ..., Ld, C]."""
        frozen = x * self.frozen.to(x.dtype)
        out = self.net(frozen.unsqueeze(1))
        if self.equivariance == "z2":
            mirrored = self.net(-frozen.unsqueeze(1))[:, self.source]
            sign = torch.tensor(self.sign, dtype=x.dtype).view([1, -1] + [1] * (x.dim() - 1))
            out = 0.5 * (out + mirrored * sign)
        return out.movedim(1, -1)

    def apply(self, x, inverse):
        """(y, log |det dy/dx|) per configuration, the log-det in float64."""
        active = 1 - self.frozen.to(x.dtype)
        out = self.outputs(x)
        if self.kind == "affine":
            s, t = out[..., 0] * active, out[..., 1] * active
            y = (x - t) * torch.exp(-s) if inverse else x * torch.exp(s) + t
            log_det = s.to(torch.float64).flatten(1).sum(1)
            return y, -log_det if inverse else log_det
        moved, log_det = rational_quadratic_spline(x, out, self.bins, self.bound, inverse)
        y = torch.where(active.bool(), moved, x)
        return y, (log_det * active).to(torch.float64).flatten(1).sum(1)


def point_group_average(values, shape):
    """The average over reflections and permutations of equal axes (LatticeSymmetry.cpp)."""
    d = len(shape)
    lead = values.dim() - d
    images = []
    for permutation in itertools.permutations(range(d)):
        if any(shape[permutation[i]] != shape[i] for i in range(d)):
            continue
        for signs in range(1 << d):
            out = values.permute(list(range(lead)) + [lead + k for k in permutation])
            for i in range(d):
                if (signs >> i) & 1:
                    out = torch.roll(torch.flip(out, [lead + i]), 1, lead + i)
            images.append(out)
    return sum(images) / len(images)


def displacement_orbits(shape):
    """Orbit number of each displacement, flattened, numbered by the sorted keys (LatticeSymmetry.cpp)."""
    keys = []
    for site in itertools.product(*[range(n) for n in shape]):
        folded = [min(r, n - r) for r, n in zip(site, shape)]
        for mu in range(len(shape)):
            for nu in range(mu + 1, len(shape)):
                if shape[mu] == shape[nu] and folded[nu] < folded[mu]:
                    folded[mu], folded[nu] = folded[nu], folded[mu]
        keys.append(tuple(folded))
    number = {key: i for i, key in enumerate(sorted(set(keys)))}
    return torch.tensor([number[key] for key in keys], dtype=torch.int64)


class FourierLayer(torch.nn.Module):
    """phi = F^-1 [sigma(p) F z] with sigma(p) = sigma(-p) (FourierLayer.cpp); with
    kind "symmetric" sigma is averaged over the lattice's rotations and reflections."""

    def __init__(self, log_sigma, kind="diagonal"):
        super().__init__()
        axes = list(range(log_sigma.dim()))
        if kind == "symmetric":
            self.log_sigma = point_group_average(log_sigma, list(log_sigma.shape))
        else:
            self.log_sigma = 0.5 * (log_sigma + torch.roll(torch.flip(log_sigma, axes), [1] * len(axes), axes))

    def apply(self, x, sign):
        dims = list(range(1, x.dim()))
        a = self.log_sigma
        half = a[..., :a.shape[-1] // 2 + 1]
        spectrum = torch.fft.rfftn(x, dim=dims, norm="ortho") * torch.exp(sign * half).to(x.dtype)
        y = torch.fft.irfftn(spectrum, s=a.shape, dim=dims, norm="ortho")
        return y, (sign * a.to(torch.float64).sum()).expand(x.shape[0])


class SineFeatures(torch.autograd.Function):
    """sin(omega_f phi) [B, F, ...] and sum_f slope_f cos(omega_f phi) [B, ...] with a backward pass
    from the saved sines and cosines (SineFeatures.cpp): no recomputation of either."""

    @staticmethod
    def forward(ctx, phi, omega, slope):
        view = [1, -1] + [1] * (phi.dim() - 1)
        phase = phi.unsqueeze(1) * omega.view(view)
        sines, cosines = torch.sin(phase), torch.cos(phase)
        ctx.save_for_backward(phi, omega, slope, sines, cosines)
        return sines, (cosines * slope.view(view)).sum(1)

    @staticmethod
    def backward(ctx, grad_sines, grad_sum):
        phi, omega, slope, sines, cosines = ctx.saved_tensors
        view = [1, -1] + [1] * (phi.dim() - 1)
        reduce = [0] + list(range(2, phi.dim() + 1))
        by_cos = grad_sines * cosines if grad_sines is not None else torch.zeros_like(cosines)
        by_sin = grad_sum.unsqueeze(1) * sines if grad_sum is not None else torch.zeros_like(sines)
        per_feature = phi.unsqueeze(1)
        grad_phi = (by_cos * omega.view(view)).sum(1) - (by_sin * (slope * omega).view(view)).sum(1)
        grad_omega = (by_cos * per_feature).sum(reduce) - slope * (by_sin * per_feature).sum(reduce)
        grad_slope = ((grad_sum.unsqueeze(1) * cosines).sum(reduce) if grad_sum is not None
                      else torch.zeros_like(slope))
        return grad_phi, grad_omega, grad_slope


class OdeLayer(torch.nn.Module):
    """The continuous layer with a global symmetric kernel (OdeLayer.hpp): d phi/dt = sum_c K_c * g_c(phi),
    g = A [phi, sin(omega phi)] / (F + 1), the kernel constant on each of P pieces of t in [0, 1], each
    integrated with `substeps` RK4 steps; log |det| = the integral of div v, v damped where stiff
    (by a factor that depends on the parameters only). As in OdeLayer.cpp the channels are contracted
    on the kernels' spectra: v = sum_f (sum_c A_cf K_c) * feature_f."""

    MAX_STEP_TIMES_LIPSCHITZ = 0.5  # OdeLayerImpl::kMaxStepTimesLipschitz

    def __init__(self, p, orbit_index, shape, substeps):
        super().__init__()
        self.kernel, self.omega = p["ode.kernel"], p["ode.frequencies"]
        self.mixing = p["ode.mixing"] / p["ode.mixing"].shape[1]
        self.orbit_index, self.shape, self.substeps = orbit_index, shape, substeps

    def velocity(self, phi, piece):
        kernel = self.kernel[piece]  # [orbits, C]
        d = len(self.shape)
        dims = list(range(1, d + 1))
        full = kernel[self.orbit_index].transpose(0, 1).reshape([-1] + self.shape)
        kernel_hat = torch.fft.rfftn(full, dim=dims).real  # [C, spectrum]
        feature_kernel = (self.mixing.t() @ kernel_hat.flatten(1)).view([-1] + list(kernel_hat.shape[1:]))
        a = kernel[0] @ self.mixing
        sines, slope_sum = SineFeatures.apply(phi, self.omega, a[1:] * self.omega)
        product = (torch.fft.rfftn(phi, dim=dims) * feature_kernel[0]
                   + (torch.fft.rfftn(sines, dim=[k + 1 for k in dims]) * feature_kernel[1:]).sum(1))
        v = torch.fft.irfftn(product, s=self.shape, dim=dims)
        divergence = slope_sum.to(torch.float64).flatten(1).sum(1) + a[0].to(torch.float64) * math.prod(self.shape)
        slopes = torch.cat([torch.ones(1, dtype=self.omega.dtype), self.omega.abs()])
        bound = (kernel_hat.abs().flatten(1).amax(1) * (self.mixing.abs() * slopes).sum(1)).sum()
        damping = 1.0 / torch.clamp(bound / (self.kernel.shape[0] * self.MAX_STEP_TIMES_LIPSCHITZ), min=1.0)
        return v * damping, divergence * damping.to(torch.float64)

    def apply(self, x, direction):
        pieces = self.kernel.shape[0]
        h = direction / (pieces * self.substeps)
        log_det = torch.zeros(x.shape[0], dtype=torch.float64)
        for n in range(pieces):
            piece = n if direction > 0 else pieces - 1 - n
            for _ in range(self.substeps):
                k1, d1 = self.velocity(x, piece)
                k2, d2 = self.velocity(x + (0.5 * h) * k1, piece)
                k3, d3 = self.velocity(x + (0.5 * h) * k2, piece)
                k4, d4 = self.velocity(x + h * k3, piece)
                x = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
                log_det = log_det + (h / 6.0) * (d1 + 2.0 * d2 + 2.0 * d3 + d4)
        return x, log_det


class Flow(torch.nn.Module):
    def __init__(self, architecture, parameters, dtype):
        super().__init__()
        self.architecture = architecture
        self.shape = list(architecture["lattice_shape"])
        self.dtype = dtype
        p = {name: t.detach().to(dtype) for name, t in parameters.items()}
        self.fourier = (FourierLayer(p["fourier.log_sigma"].to(torch.float64), architecture.get("fourier_layer"))
                        if "fourier.log_sigma" in p else None)
        self.ode = None
        if architecture.get("ode_layer", "none") == "global":
            self.ode = OdeLayer(p, displacement_orbits(self.shape), self.shape, architecture["ode_substeps"])
        kinds = architecture["coupling"]
        self.layers = []
        for i in range(architecture["n_layers"]):
            kind = kinds[i % len(kinds)]
            prefix = f"coupling{i}.net."
            names = sorted({n[len(prefix):].split(".")[0] for n in p if n.startswith(prefix)}, key=int)
            net = ConvNet([p[f"{prefix}{k}.weight"] for k in names], [p[f"{prefix}{k}.bias"] for k in names],
                          final_tanh=kind == "affine" and architecture["final_tanh"])
            self.layers.append(Coupling(kind, net, self.shape, i % 2, architecture["equivariance"],
                                        architecture["spline_bins"], architecture["spline_bound"]))

    def prior_log_prob(self, z):
        z64 = z.to(torch.float64)
        volume = math.prod(self.shape)
        return -0.5 * (z64 * z64).flatten(1).sum(1) - 0.5 * math.log(2 * math.pi) * volume

    def _forward(self, z):
        x, log_q = z, self.prior_log_prob(z)
        if self.fourier is not None:
            x, log_det = self.fourier.apply(x, 1.0)
            log_q = log_q - log_det
        if self.ode is not None:
            x, log_det = self.ode.apply(x, +1)
            log_q = log_q - log_det
        for layer in self.layers:
            x, log_det = layer.apply(x, inverse=False)
            log_q = log_q - log_det
        return x, log_q

    def _log_prob_plain(self, x):
        z, log_det = x, torch.zeros(x.shape[0], dtype=torch.float64)
        for layer in reversed(self.layers):
            z, ld = layer.apply(z, inverse=True)
            log_det = log_det + ld
        if self.ode is not None:
            z, ld = self.ode.apply(z, -1)
            log_det = log_det + ld
        if self.fourier is not None:
            z, ld = self.fourier.apply(z, -1.0)
            log_det = log_det + ld
        return self.prior_log_prob(z) + log_det

    @torch.no_grad()
    def log_prob(self, x):
        """log q(x) in float64 for configurations x [n, L1, ..., Ld]."""
        x = torch.as_tensor(x).to(self.dtype)
        plain = self._log_prob_plain(x)
        if self.architecture["symmetrisation"] != "z2":
            return plain
        return torch.logaddexp(plain, self._log_prob_plain(-x)) - math.log(2.0)

    @torch.no_grad()
    def sample(self, n, generator=None):
        """n configurations of q and their log q (float64)."""
        z = torch.randn([n] + self.shape, generator=generator, dtype=self.dtype)
        x, log_q = self._forward(z)
        if self.architecture["symmetrisation"] == "z2":
            log_q = torch.logaddexp(log_q, self._log_prob_plain(-x)) - math.log(2.0)
            signs = torch.randint(0, 2, (n,), generator=generator) * 2 - 1
            x = x * signs.to(x.dtype).view([n] + [1] * len(self.shape))
        return x, log_q


def _describe_hdf5(path):
    """An HDF5 file: a flowlat ensemble (and its source) if its attributes say so."""
    try:
        import h5py
        with h5py.File(path, "r") as file:
            attributes = {k: v.decode() if isinstance(v, bytes) else str(v)
                          for k, v in file.attrs.items() if k in ("format", "source")}
    except (ImportError, OSError):
        return "it is an HDF5 file"
    if attributes.get("format") != "flowlat-ensemble":
        return "it is an HDF5 file, no flowlat ensemble"
    source = f"{attributes['source']} " if "source" in attributes else ""
    return f"it is a flowlat {source}ensemble (HDF5; flowlat analyze and tools/plot_ensemble.py read it)"


def describe_file(path):
    """What the file at `path` is, for a message when it is not a model file."""
    try:
        with open(path, "rb") as file:
            head = file.read(8000)
    except OSError as error:
        return f"it cannot be read ({error.strerror})"
    if head.startswith(b"flowlat-checkpoint"):
        return "it is a flowlat training checkpoint (tools/flowlat_checkpoint.py reads it)"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return _describe_hdf5(path)
    if head.startswith(b"PK\x03\x04"):  # a model file is a zip archive that LibTorch could not read
        return "it is a zip archive LibTorch cannot read (a damaged or truncated model file?)"
    if not head:
        return "it is empty"
    if b"\0" not in head:  # no NUL byte in its head: text, as git decides it
        return "it is a text file"
    return "it is no LibTorch archive"


def load(path, dtype=torch.float32):
    """The flow stored in a flowlat model file, evaluated in `dtype`.

    Raises ValueError naming the file and what it is when it is no flowlat
    model file (a checkpoint, an ensemble, text, missing)."""
    expected = "expected a model file of flowlat train (model.pt, model_best.pt)"
    try:
        archive = torch.jit.load(path, map_location="cpu")
    except (RuntimeError, ValueError, OSError):
        raise ValueError(f"{path}: not a flowlat model file: {describe_file(path)}; {expected}") from None
    if not hasattr(archive, "flowlat_architecture"):
        raise ValueError(f"{path}: a LibTorch archive without flowlat's architecture record; {expected}")
    architecture = json.loads(archive.flowlat_architecture)
    return Flow(architecture, dict(archive.named_parameters()), dtype)


def summary(path, flow):
    """A few lines on the model: lattice, layers, parameters, precision."""
    a = flow.architecture
    parameters = dict(torch.jit.load(path, map_location="cpu").named_parameters())
    count = sum(t.numel() for t in parameters.values())
    stored = sorted({str(t.dtype).replace("torch.", "") for t in parameters.values()})
    layers = []
    if flow.fourier is not None:
        layers.append(f"Fourier layer ({a.get('fourier_layer')})")
    if flow.ode is not None:
        layers.append(f"continuous layer ({a.get('ode_pieces')} pieces, {a.get('ode_channels')} channels, "
                      f"{a.get('ode_frequencies')} frequencies)")
    if a["n_layers"]:
        layers.append(f"{a['n_layers']} couplings ({', '.join(a['coupling'])}; hidden {a.get('hidden_channels')}, "
                      f"kernel {a.get('kernel_size')})")
    return "\n".join([f"{path}: flowlat model",
                      f"  lattice {'x'.join(str(n) for n in flow.shape)}",
                      f"  layers: {'; '.join(layers) or 'none'}",
                      f"  equivariance {a.get('equivariance')}, symmetrisation {a.get('symmetrisation')}",
                      f"  {count} parameters stored in {', '.join(stored)}"])


def main(argv=None):
    """`python3 tools/flowlat_model.py MODEL`: a summary of the model; exit 2 for a file that is none."""
    import argparse
    parser = argparse.ArgumentParser(description="Summarise a flowlat model file (model.pt, model_best.pt).")
    parser.add_argument("model", help="model file written by flowlat train")
    args = parser.parse_args(argv)
    try:
        flow = load(args.model, dtype=torch.float64)
    except ValueError as error:
        print(f"flowlat_model.py: error: {error}", file=sys.stderr)
        return 2
    print(summary(args.model, flow))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
