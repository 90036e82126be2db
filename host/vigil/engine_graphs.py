"""Random int8 models inside the engine's op set, to prove the engine exact on graphs nobody here wrote.

`draw_graph(seed)` gives a `GraphSpec`: plain data (input shape, a list of nodes, the representative data's
range), the same for the same seed on every machine. `build_keras(spec)` makes it a Keras functional model whose
weights come from the seed too, and `convert(spec)` quantizes it the usual way (`vigil.export.tflite.to_int8_tflite`:
full-integer int8, representative data), so the engine sees what the TFLite converter really emits: fused
activations or standalone RELUs, SPACE_TO_BATCH_ND around dilated convolutions, the shape subgraph of a Flatten,
zero-point and scale choices of its own.

What is drawn, per the engine's op set (firmware/core/nn/README.md):
- CONV_2D: kernel 1-7 per axis, stride 1-3 per axis, dilation 1-3 per axis (stride 1 then, as Keras requires),
  SAME/VALID, 1-17 filters, fused NONE/RELU/RELU6, with or without bias, now and then an all-zero filter;
- DEPTHWISE_CONV_2D: the same geometry, depth multiplier 1-3;
- MAX_POOL_2D / AVERAGE_POOL_2D: windows 1-4 per axis, strides 1-3 (overlapping, disjoint or skipping), SAME/VALID;
- MEAN over H, W or both (global average pooling, keeping the axes or not);
- ADD: residual branches, two branches, broadcast of (1, 1, c) or (h, w, 1) activations, a constant (c,) vector;
- standalone RELU/RELU6, FULLY_CONNECTED after a Flatten or a global pool, SOFTMAX/LOGISTIC heads;
- inputs with odd sizes and 1-wide axes, representative data at scales from 0.03 to 30 and offsets.
Sizes are bounded (MACs, weights, activations) so a batch fits the virtual board's flash and runs in seconds."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

#: Bounds that keep one model small enough for a batch on the virtual board (flash 1 MB, RAM 256 KB).
MAX_MACS = 1_500_000
MAX_WEIGHTS = 24_000
MAX_ACTIVATION = 12_000
MAX_FLAT_FOR_DENSE = 1_200
#: Channels drawn for convolutions and inputs (the issue's 1-17).
MAX_CHANNELS = 17
#: Representative samples the converter calibrates on.
REPRESENTATIVE_SAMPLES = 8

INPUT = -1  # a node input that is the graph's input


@dataclass(frozen=True)
class Node:
    """One layer: `op` names it (conv, depthwise, max_pool, avg_pool, mean, add, const_add, relu, relu6,
    flatten, dense, softmax, sigmoid); `inputs` are indices of earlier nodes (INPUT for the graph's input)."""

    op: str
    inputs: tuple[int, ...]
    args: dict[str, Any] = field(default_factory=dict)
    shape: tuple[int, ...] = ()  # the output shape without batch


@dataclass(frozen=True)
class GraphSpec:
    seed: int
    input_shape: tuple[int, int, int]
    nodes: tuple[Node, ...]
    rep_center: float
    rep_spread: float
    per_channel_dense: bool = True  # False: dense weights quantized per tensor (older converters' choice)

    def describe(self) -> str:
        """One line per node, e.g. `3 conv(2) kernel=5x3 strides=2x1 ... -> (9, 11, 7)`."""
        lines = [f"graph {self.seed}: input {self.input_shape}, representative {self.rep_center:+.3g} "
                 f"± {self.rep_spread:.3g}" + ("" if self.per_channel_dense else ", dense weights per tensor")]
        for i, n in enumerate(self.nodes):
            args = " ".join(f"{k}={_fmt(v)}" for k, v in n.args.items())
            src = ",".join("in" if j == INPUT else str(j) for j in n.inputs)
            lines.append(f"  {i} {n.op}({src}) {args} -> {n.shape}")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _fmt(v: Any) -> str:
    return "x".join(str(x) for x in v) if isinstance(v, (list, tuple)) else str(v)


# --- drawing ------------------------------------------------------------------------------------------------

def _conv_out(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    """TFLite's output size (SAME: ceil(size / stride); VALID: ceil((size - k_eff + 1) / stride))."""
    k_eff = (k - 1) * dilation + 1
    if padding == "SAME":
        return -(-size // stride)
    return -(-(size - k_eff + 1) // stride) if size >= k_eff else 0


class _Drawer:
    """Keeps the nodes drawn so far, their shapes and the model's running cost."""

    def __init__(self, rng: np.random.Generator, input_shape: tuple[int, int, int]) -> None:
        self.rng = rng
        self.nodes: list[Node] = []
        self.shapes: dict[int, tuple[int, ...]] = {INPUT: input_shape}
        self.macs = 0
        self.weights = 0

    def add(self, op: str, inputs: tuple[int, ...], args: dict[str, Any], shape: tuple[int, ...],
            macs: int = 0, weights: int = 0) -> int:
        self.nodes.append(Node(op, inputs, args, shape))
        self.shapes[len(self.nodes) - 1] = shape
        self.macs += macs
        self.weights += weights
        return len(self.nodes) - 1

    def fits(self, shape: tuple[int, ...], macs: int, weights: int) -> bool:
        return (all(d >= 1 for d in shape) and int(np.prod(shape)) <= MAX_ACTIVATION
                and self.macs + macs <= MAX_MACS and self.weights + weights <= MAX_WEIGHTS)

    def _side(self) -> int:
        """A kernel side: 3 and 1 often (what real models use, and where the fast paths sit), else 1-7."""
        r = self.rng.random()
        return 3 if r < 0.35 else 1 if r < 0.5 else 2 if r < 0.62 else int(self.rng.integers(1, 8))

    def _stride(self) -> int:
        r = self.rng.random()
        return 1 if r < 0.6 else 2 if r < 0.85 else 3

    # geometry shared by conv, depthwise and pools
    def _window(self, h: int, w: int, allow_dilation: bool) -> dict[str, Any] | None:
        rng = self.rng
        for _ in range(20):
            padding = "SAME" if rng.random() < 0.5 else "VALID"
            k = (self._side(), self._side())
            dilated = allow_dilation and rng.random() < 0.2
            d = (int(rng.integers(1, 4)), int(rng.integers(1, 4))) if dilated else (1, 1)
            s = (1, 1) if d != (1, 1) else (self._stride(), self._stride())
            out = (_conv_out(h, k[0], s[0], d[0], padding), _conv_out(w, k[1], s[1], d[1], padding))
            if min(out) >= 1:
                return {"kernel": k, "strides": s, "dilation": d, "padding": padding, "out": out}
        return None

    def _activation(self) -> str:
        return str(self.rng.choice(["none", "relu", "relu6"], p=[0.4, 0.4, 0.2]))

    def conv(self, src: int, filters: int | None = None, same_stride1: bool = False,
             kernel: tuple[int, int] | None = None) -> int | None:
        h, w, c = self.shapes[src]
        g = self._window(h, w, allow_dilation=kernel is None)
        if g is None:
            return None
        if kernel is not None:  # a fixed kernel, stride 1 along W (the 3x3 single-channel path's condition)
            s = (g["strides"][0], 1)
            out = (_conv_out(h, kernel[0], s[0], 1, g["padding"]), _conv_out(w, kernel[1], 1, 1, g["padding"]))
            if min(out) < 1:
                return None
            g.update(kernel=kernel, strides=s, out=out)
        if same_stride1:
            g.update(padding="SAME", strides=(1, 1), out=(h, w))
        # one filter now and then: single-channel maps (the 3x3 single-channel path) deeper in the graph
        f = filters or (1 if self.rng.random() < 0.15 else int(self.rng.integers(1, MAX_CHANNELS + 1)))
        shape = (*g.pop("out"), f)
        kh, kw = g["kernel"]
        macs, weights = shape[0] * shape[1] * f * kh * kw * c, kh * kw * c * f
        if not self.fits(shape, macs, weights):
            return None
        args = {**g, "filters": f, "activation": self._activation(), "bias": bool(self.rng.random() < 0.8),
                "zero_filter": bool(self.rng.random() < 0.05)}
        return self.add("conv", (src,), args, shape, macs, weights)

    def depthwise(self, src: int) -> int | None:
        h, w, c = self.shapes[src]
        g = self._window(h, w, allow_dilation=True)
        if g is None:
            return None
        m = int(self.rng.integers(1, 4))
        shape = (*g.pop("out"), c * m)
        kh, kw = g["kernel"]
        macs, weights = shape[0] * shape[1] * c * m * kh * kw, kh * kw * c * m
        if c * m > 3 * MAX_CHANNELS or not self.fits(shape, macs, weights):
            return None
        args = {**g, "multiplier": m, "activation": self._activation(), "bias": bool(self.rng.random() < 0.8)}
        return self.add("depthwise", (src,), args, shape, macs, weights)

    def pool(self, src: int, op: str) -> int | None:
        """Windows of 2 and 3 often; strides equal to the window (Keras' default: disjoint windows) or drawn
        (overlapping, or skipping pixels)."""
        h, w, c = self.shapes[src]
        rng = self.rng
        for _ in range(20):
            k = tuple(2 if r < 0.4 else 3 if r < 0.65 else int(rng.integers(1, 5)) for r in rng.random(2))
            s = (int(rng.integers(1, 4)), int(rng.integers(1, 4))) if rng.random() < 0.5 else k
            padding = "SAME" if rng.random() < 0.5 else "VALID"
            out = (_conv_out(h, k[0], s[0], 1, padding), _conv_out(w, k[1], s[1], 1, padding))
            if min(out) >= 1 and (h, w) != (1, 1):
                return self.add(op, (src,), {"pool": k, "strides": s, "padding": padding}, (*out, c))
        return None

    def mean(self, src: int) -> int | None:
        h, w, c = self.shapes[src]
        axes = [(1, 2), (1,), (2,)][int(self.rng.integers(0, 3))]
        shape = (1 if 1 in axes else h, 1 if 2 in axes else w, c)
        return self.add("mean", (src,), {"axes": axes, "keepdims": True}, shape)

    def residual(self, src: int) -> int | None:
        """x + f(x) (f one or two SAME stride-1 convolutions), or f(x) + g(x), maybe with a RELU after."""
        c = self.shapes[src][2]
        a = self.conv(src, filters=c, same_stride1=True)
        if a is None:
            return None
        if self.rng.random() < 0.3:
            b = self.conv(a, filters=c, same_stride1=True)
            pair = (src, b) if b is not None else (src, a)
        elif self.rng.random() < 0.5:
            b = self.conv(src, filters=c, same_stride1=True)
            pair = (a, b) if b is not None else (src, a)
        else:
            pair = (src, a)
        if self.rng.random() < 0.5:
            pair = (pair[1], pair[0])
        out = self.add("add", pair, {}, self.shapes[src])
        if self.rng.random() < 0.4:
            out = self.add(str(self.rng.choice(["relu", "relu6"])), (out,), {}, self.shapes[src])
        return out

    def broadcast_add(self, src: int) -> int | None:
        """x + mean(x) over H and W ((1, 1, c) broadcast), or x + a one-filter convolution of x ((h, w, 1))."""
        h, w, c = self.shapes[src]
        if self.rng.random() < 0.5:
            other = self.add("mean", (src,), {"axes": (1, 2), "keepdims": True}, (1, 1, c))
        else:
            o = self.conv(src, filters=1, same_stride1=True)
            if o is None:
                return None
            other = o
        pair = (src, other) if self.rng.random() < 0.5 else (other, src)
        return self.add("add", pair, {}, (h, w, c))

    def const_add(self, src: int) -> int:
        return self.add("const_add", (src,), {}, self.shapes[src], weights=self.shapes[src][2])

    def relu(self, src: int) -> int:
        return self.add(str(self.rng.choice(["relu", "relu6"])), (src,), {}, self.shapes[src])


def _input_shape(rng: np.random.Generator) -> tuple[int, int, int]:
    while True:
        def side() -> int:
            r = rng.random()
            return 1 if r < 0.08 else int(rng.integers(2, 9)) if r < 0.4 else int(rng.integers(9, 48))
        c = 1 if rng.random() < 0.45 else int(rng.integers(2, MAX_CHANNELS + 1))
        shape = (side(), side(), c)
        if int(np.prod(shape)) <= MAX_ACTIVATION // 2:
            return shape


_SPATIAL_OPS = ("conv", "depthwise", "max_pool", "avg_pool", "residual", "broadcast_add", "const_add", "relu",
                "mean")
_SPATIAL_WEIGHTS = (0.33, 0.14, 0.13, 0.08, 0.1, 0.07, 0.03, 0.05, 0.07)


def draw_graph(seed: int) -> GraphSpec:
    """A random model in the engine's op set, the same for the same seed."""
    rng = np.random.default_rng([0x5EED, seed])
    shape = _input_shape(rng)
    d = _Drawer(rng, shape)
    cur = INPUT

    def then(step: int | None) -> int:
        return cur if step is None else step  # node 0 is a node: no `or`

    if shape[2] == 1 and rng.random() < 0.4:
        # a spectrogram's stem (the sleep CNN's shape): 3x3 over one channel, maybe a max pool after it
        cur = then(d.conv(cur, kernel=(3, 3)))
        if cur != INPUT and rng.random() < 0.5:
            cur = then(d.pool(cur, "max_pool"))
    for _ in range(int(rng.integers(1, 6))):
        op = str(rng.choice(_SPATIAL_OPS, p=_SPATIAL_WEIGHTS))
        step = {
            "conv": lambda: d.conv(cur), "depthwise": lambda: d.depthwise(cur),
            "max_pool": lambda: d.pool(cur, "max_pool"), "avg_pool": lambda: d.pool(cur, "avg_pool"),
            "residual": lambda: d.residual(cur), "broadcast_add": lambda: d.broadcast_add(cur),
            "const_add": lambda: d.const_add(cur), "relu": lambda: d.relu(cur), "mean": lambda: d.mean(cur),
        }[op]()
        cur = then(step)
        if op in ("conv", "depthwise") and step is not None and rng.random() < 0.4:
            cur = then(d.pool(cur, "max_pool"))  # conv then max pool: the fused kernels
    if not d.nodes:  # at least one op: a convolution always fits a valid input
        cur = then(d.conv(cur, filters=int(rng.integers(1, 5)), same_stride1=True))
        cur = d.relu(cur) if cur == INPUT else cur
    _draw_head(d, cur)
    return GraphSpec(seed=seed, input_shape=shape, nodes=tuple(d.nodes),
                     rep_center=float(rng.choice([0.0, 0.0, 0.5, 1.0, -1.0]) * rng.uniform(0.1, 2.0)),
                     rep_spread=float(10 ** rng.uniform(-1.5, 1.5)), per_channel_dense=bool(rng.random() < 0.7))


def _draw_head(d: _Drawer, cur: int) -> None:
    """Dense layers after a Flatten or a global pool, or the feature map itself; then maybe SOFTMAX/LOGISTIC."""
    rng = d.rng
    h, w, c = d.shapes[cur]
    r = rng.random()
    if r < 0.15:
        if rng.random() < 0.5:
            d.add(str(rng.choice(["softmax", "sigmoid"])), (cur,), {}, d.shapes[cur])
        return
    if r < 0.55 and h * w * c <= MAX_FLAT_FOR_DENSE:
        cur = d.add("flatten", (cur,), {}, (h * w * c,))
    else:
        cur = d.add("mean", (cur,), {"axes": (1, 2), "keepdims": False}, (c,))
    for _ in range(int(rng.integers(1, 3))):
        n_in = d.shapes[cur][0]
        units = int(rng.integers(1, MAX_CHANNELS + 1))
        if d.weights + n_in * units > MAX_WEIGHTS:
            break
        cur = d.add("dense", (cur,), {"units": units, "activation": d._activation(),
                                       "bias": bool(rng.random() < 0.85)}, (units,), n_in * units, n_in * units)
    head = str(rng.choice(["none", "softmax", "sigmoid"], p=[0.4, 0.35, 0.25]))
    if head != "none":
        d.add(head, (cur,), {}, d.shapes[cur])


# --- Keras ---------------------------------------------------------------------------------------------------

def _weights(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    gain = 10 ** rng.uniform(-0.5, 0.5)
    bound = gain * np.sqrt(6.0 / max(fan_in, 1))
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def build_keras(spec: GraphSpec) -> Any:
    """The spec as a Keras functional model, weights drawn from the spec's seed (not Keras' initializers)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import keras.layers as L

    rng = np.random.default_rng([0x3E16, spec.seed])
    x = keras.Input(spec.input_shape)
    outs: list[Any] = []

    def get(i: int) -> Any:
        return x if i == INPUT else outs[i]

    for node in spec.nodes:
        a = node.args
        act = {"none": None}.get(a.get("activation", "none"), a.get("activation"))
        src = get(node.inputs[0])
        if node.op == "conv":
            layer = L.Conv2D(a["filters"], a["kernel"], strides=a["strides"], dilation_rate=a["dilation"],
                             padding=a["padding"].lower(), activation=act, use_bias=a["bias"])
            y = layer(src)
            cin = src.shape[-1]
            k = _weights(rng, (*a["kernel"], cin, a["filters"]), a["kernel"][0] * a["kernel"][1] * cin)
            if a["zero_filter"]:
                k[..., int(rng.integers(0, a["filters"]))] = 0.0
            layer.set_weights([k] + ([rng.uniform(-0.5, 0.5, a["filters"]).astype(np.float32)] if a["bias"] else []))
        elif node.op == "depthwise":
            layer = L.DepthwiseConv2D(a["kernel"], strides=a["strides"], dilation_rate=a["dilation"],
                                      padding=a["padding"].lower(), depth_multiplier=a["multiplier"],
                                      activation=act, use_bias=a["bias"])
            y = layer(src)
            cin = src.shape[-1]
            k = _weights(rng, (*a["kernel"], cin, a["multiplier"]), a["kernel"][0] * a["kernel"][1])
            n = cin * a["multiplier"]
            layer.set_weights([k] + ([rng.uniform(-0.5, 0.5, n).astype(np.float32)] if a["bias"] else []))
        elif node.op in ("max_pool", "avg_pool"):
            cls = L.MaxPooling2D if node.op == "max_pool" else L.AveragePooling2D
            y = cls(a["pool"], strides=a["strides"], padding=a["padding"].lower())(src)
        elif node.op == "mean":
            axes, keep = tuple(a["axes"]), bool(a["keepdims"])
            y = L.Lambda(lambda t, axes=axes, keep=keep: keras.ops.mean(t, axis=axes, keepdims=keep))(src)
        elif node.op == "add":
            y = L.Add()([get(node.inputs[0]), get(node.inputs[1])])
        elif node.op == "const_add":
            layer = _constant_add_layer()
            y = layer(src)
            layer.set_weights([rng.uniform(-1.0, 1.0, src.shape[-1]).astype(np.float32)])
        elif node.op in ("relu", "relu6"):
            y = L.ReLU(max_value=6.0 if node.op == "relu6" else None)(src)
        elif node.op == "flatten":
            y = L.Flatten()(src)
        elif node.op == "dense":
            layer = L.Dense(a["units"], activation=act, use_bias=a["bias"])
            y = layer(src)
            n_in = src.shape[-1]
            layer.set_weights([_weights(rng, (n_in, a["units"]), n_in)]
                              + ([rng.uniform(-0.5, 0.5, a["units"]).astype(np.float32)] if a["bias"] else []))
        elif node.op == "softmax":
            y = L.Softmax()(src)
        elif node.op == "sigmoid":
            y = L.Activation("sigmoid")(src)
        else:
            raise ValueError(f"unknown node op {node.op!r}")
        outs.append(y)
    return keras.Model(x, outs[-1])


def _constant_add_layer() -> Any:
    """A layer computing x + v, v a constant vector over the channels (the converter writes it as an ADD with a
    constant operand). Defined here, not at import: keras loads only when a model is built."""
    import keras

    class ConstantAdd(keras.layers.Layer):
        def build(self, input_shape: Sequence[int]) -> None:
            self.v = self.add_weight(shape=(int(input_shape[-1]),), initializer="zeros", name="v")

        def call(self, t: Any) -> Any:
            return t + self.v

    return ConstantAdd()


def representative(spec: GraphSpec, n: int = REPRESENTATIVE_SAMPLES) -> np.ndarray:
    rng = np.random.default_rng([0xDA7A, spec.seed])
    lo, hi = spec.rep_center - spec.rep_spread, spec.rep_center + spec.rep_spread
    return rng.uniform(lo, hi, (n, *spec.input_shape)).astype(np.float32)


def convert(spec: GraphSpec) -> bytes:
    """The spec's model as an int8 `.tflite`, through the TFLite converter (vigil.export.tflite)."""
    from vigil.export.tflite import output_silenced, to_int8_tflite

    with output_silenced():  # the converter's "Saved artifact ..." and MLIR chatter; its errors still raise
        return to_int8_tflite(build_keras(spec), representative(spec), per_channel_dense=spec.per_channel_dense)


def check_inputs(spec: GraphSpec, model_bytes: bytes, samples: int) -> np.ndarray:
    """Inputs for a check: representative data quantized as the model's input (what the model was calibrated
    for), alternating with uniform int8 (every code, saturating), and one all-extremes input."""
    from vigil.export.tflite_reader import read_tflite

    g = read_tflite(model_bytes)
    q = g.tensors[g.inputs[0]].quant
    rng = np.random.default_rng([0x1, spec.seed])
    rep = representative(spec, n=samples)
    out = []
    for i in range(samples):
        if i % 3 == 0:
            out.append(np.clip(np.round(rep[i] / q.scale) + q.zero_point, -128, 127))
        elif i % 3 == 1:
            out.append(rng.integers(-128, 128, spec.input_shape))
        else:
            out.append(np.where(rng.random(spec.input_shape) < 0.5, -128, 127))
    return np.stack(out).astype(np.int8)
