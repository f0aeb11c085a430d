"""Hub-shaped test fixtures: tiny random-weight models in the Hugging Face / Optimum folder layout.

    /usr/bin/python3 models/foundry/hub_fixtures.py      # writes test/fixtures/hub/<name>/

Not bundled models: test fixtures (each folder < 1 MB, committed), deterministic (fixed seeds, one
thread). They have the file names, ONNX input/output names and dtypes of Optimum / onnx-community
exports, so the adapter's handling of those exports can be tested without the hub:

  gpt2-lm            GPT-2 decoder (position_ids input, KV cache), onnx/model.onnx (fp32),
                     onnx/model_fp16.onnx (fp16 weights, fp16 logits and fp16 past/present KV),
                     onnx/model_quantized.onnx (q8: dynamic int8) and onnx/model_q4.onnx (MatMulNBits)
  gpt2-lm-external   the same graph as gpt2-lm's fp32 one, weights in onnx/model.onnx_data
  llama-style        the same kind of graph under a Llama config: a tokenizer that adds a BOS
                     (<s>, TemplateProcessing like Llama 3), a vocabulary padded to 4,104 in config,
                     generation_config.json with an EOS list [4097, 4095] (config.json says 4095);
                     onnx/model.onnx (fp32) and onnx/model_q4f16.onnx (the q4 graph, see gpt2-lm,
                     behind fp16 past inputs and fp16 logits/present outputs)
  gpt2-lm-quant      gpt2-lm's graph as onnx/model_int8.onnx (quantize_dynamic QInt8), model_uint8.onnx
                     (QUInt8: uint8 weights/embeddings with zero points) and model_bnb4.onnx
                     (com.microsoft MatMulBnb4, NF4); no model.onnx (its fp32 numbers are gpt2-lm's)
  llama-gqa          llama.py's Llama (RMSNorm, RoPE, GQA 4/2 heads, SwiGLU, tied head) with
                     llama-style's BOS tokenizer; fp32 and q4f16; reference.json adds 4-beam results
  gpt2-classifier    GPT2ForSequenceClassification, two labels NEGATIVE/POSITIVE, pad_token_id 0
                     (not EOS); HF semantics: positions 0..T-1 (no position_ids input), pooled at
                     the last token that is not pad_token_id. Shares the bundled models' tokenizer.
                     onnx/model.onnx (fp32) and onnx/model_fp16.onnx (fp16 weights and fp16 logits).
  bert-classifier    BertForSequenceClassification, two labels, inputs input_ids, attention_mask,
                     token_type_ids, [CLS] pooling; its own WordPiece tokenizer ([CLS] ... [SEP]).

The fp16 variant is made from the fp32 graph with the onnx package: float initializers stored as
float16 and Cast to float32 where they are read, past_key_values.* inputs float16 (Cast to float32),
logits and present.* outputs Cast to float16. Its interface is an onnx-community model_fp16's; the
arithmetic between the casts stays float32 (onnxruntime's CPU provider lacks fp16 kernels for some
ops). `reference.json` in each folder holds PyTorch's numbers for the tests: first-step logits and
greedy tokens (fp32, and fp16 emulated: weights, KV and logits rounded to float16), classifier
logits of each text scored alone (no padding).
"""
import json
import math
import os
import shutil
import sys

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from gpt import GPT, positions_from_mask  # noqa: E402
from export import write_json  # noqa: E402
from decoder_export import export_decoder  # noqa: E402
from llama import Llama, export_llama, llama_config  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'hub')
BUNDLED_TOKENIZER = os.path.join(ROOT, 'models', 'tiny-base', 'tokenizer.json')
EOS = 4095
ARCH = dict(d=12, layers=2, heads=2, ctx=64)
LLAMA_SCALE = 10.0
PROMPTS = ['The state of the Union is', 'We must never forget that']
TEXTS = ['This is good.', 'A bad day, a very bad and terrible day for all of us.', 'Peace', 'We will win the war on debt and fear!']


def seed(s):
    torch.manual_seed(s)
    np.random.seed(s)


# ---------------------------------------------------------------------------------------------
# ONNX helpers


def export_lm(gpt, dst, vocab):
    """Like export.export_lm (same names, axes and opset), for any vocabulary size."""
    export_decoder(gpt, dst, vocab)


def to_fp16_interface(src, dst, weights=True):
    """fp32 graph -> fp16 weights, fp16 past inputs, fp16 logits/present outputs (see the module doc).
    weights=False keeps the initializers as they are (q4f16: the q4 graph behind an fp16 interface)."""
    m = onnx.load(src)
    g = m.graph
    casts_in, inits = [], []
    for init in g.initializer:
        if weights and init.data_type == TensorProto.FLOAT:
            a = np.clip(numpy_helper.to_array(init), -65504, 65504).astype(np.float16)
            inits.append(numpy_helper.from_array(a, init.name + '__fp16'))
            casts_in.append(helper.make_node('Cast', [init.name + '__fp16'], [init.name], to=TensorProto.FLOAT))
        else:
            inits.append(init)
    del g.initializer[:]
    g.initializer.extend(inits)

    def rename(old, new):
        for n in g.node:
            for i, x in enumerate(n.input):
                if x == old:
                    n.input[i] = new
            for i, x in enumerate(n.output):
                if x == old:
                    n.output[i] = new

    for inp in g.input:
        if inp.type.tensor_type.elem_type == TensorProto.FLOAT:
            rename(inp.name, inp.name + '__f32')
            casts_in.append(helper.make_node('Cast', [inp.name], [inp.name + '__f32'], to=TensorProto.FLOAT))
            inp.type.tensor_type.elem_type = TensorProto.FLOAT16
    casts_out = []
    for out in g.output:
        if out.type.tensor_type.elem_type == TensorProto.FLOAT:
            rename(out.name, out.name + '__f32')
            casts_out.append(helper.make_node('Cast', [out.name + '__f32'], [out.name], to=TensorProto.FLOAT16))
            out.type.tensor_type.elem_type = TensorProto.FLOAT16
    nodes = casts_in + list(g.node) + casts_out
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    if not any(o.domain == 'com.microsoft' for o in m.opset_import):  # the checker knows no contrib ops
        onnx.checker.check_model(m)
    onnx.save(m, dst)


def quant_uint8(W):
    """uint8 asymmetric per tensor, as quantize_dynamic does for QUInt8: the range [min(W, 0), max(W, 0)]
    in 255 steps, zero point round(-min / scale)."""
    lo, hi = min(float(W.min()), 0.0), max(float(W.max()), 0.0)
    scale = np.float32(max(hi - lo, 1e-8) / 255.0)
    zp = np.uint8(np.clip(np.round(-lo / scale), 0, 255))
    return np.clip(np.round(W / scale) + zp, 0, 255).astype(np.uint8), scale, zp


def quantize_gathers(g, nodes, deq=None, uint8=False):
    """Embedding lookups Gather(W fp32 [V, D], ids) -> DequantizeLinear(Gather(W int8, ids), scale): int8
    symmetric per tensor (the quantized exports' embeddings are not stored in float32 either); with
    uint8, uint8 asymmetric with a zero point (quantize_dynamic's QUInt8)."""
    inits = {i.name: i for i in g.initializer}
    out = []
    for n in nodes:
        w = inits.get(n.input[0]) if n.op_type == 'Gather' else None
        if w is None or w.data_type != TensorProto.FLOAT or len(w.dims) != 2:
            out.append(n)
            continue
        W = numpy_helper.to_array(w)
        if uint8:
            Wq, scale, zp = quant_uint8(W)
        else:
            scale = np.float32(max(float(np.abs(W).max()), 1e-8) / 127.0)
            zp = np.int8(0)
        p = n.input[0] + '_i8'
        if p not in inits:
            if not uint8:
                Wq = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
            if deq is not None:
                deq['gather'][n.input[0]] = (Wq.astype(np.float32) - np.float32(zp)) * scale
            g.initializer.extend([numpy_helper.from_array(Wq, p),
                                  numpy_helper.from_array(np.array(scale, np.float32), p + '_scale'),
                                  numpy_helper.from_array(np.array(zp), p + '_zp')])
            inits[p] = True
        out += [helper.make_node('Gather', [p, n.input[1]], [n.output[0] + '_i8'], **{a.name: helper.get_attribute_value(a) for a in n.attribute}),
                helper.make_node('DequantizeLinear', [n.output[0] + '_i8', p + '_scale', p + '_zp'], [n.output[0]])]
    return out


def to_q8_dynamic(src, dst, weight_type='int8'):
    """fp32 graph -> model_quantized.onnx as onnxruntime's quantize_dynamic writes it: every MatMul with
    a weight initializer becomes DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_q int8 symmetric,
    per tensor) -> Cast -> Mul(x_scale * w_scale); embeddings int8 (quantize_gathers). Other ops stay float32.
    weight_type 'int8' is quantize_dynamic's QInt8 (model_int8.onnx, and model_quantized.onnx here);
    'uint8' its QUInt8 (model_uint8.onnx): weights and embeddings uint8 asymmetric with a zero point."""
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer if i.data_type == TensorProto.FLOAT}
    # torch exports nn.Linear / a tied head as MatMul(x, Transpose(W)): weights by the name MatMul reads.
    weights = {k: v for k, v in inits.items() if v.ndim == 2}
    for n in g.node:
        if n.op_type == 'Transpose' and n.input[0] in inits and inits[n.input[0]].ndim == 2:
            weights[n.output[0]] = inits[n.input[0]].T
    nodes, k = [], 0
    for n in g.node:
        W = weights.get(n.input[1]) if n.op_type == 'MatMul' and len(n.input) == 2 else None
        if W is None:
            nodes.append(n)
            continue
        k += 1
        W = np.ascontiguousarray(W)
        if weight_type == 'uint8':
            Wq, scale, zp = quant_uint8(W)
        else:
            scale = np.float32(max(float(np.abs(W).max()), 1e-8) / 127.0)
            Wq = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
            zp = np.int8(0)
        p = f'q8_{k}'
        g.initializer.extend([numpy_helper.from_array(Wq, p + '_W'), numpy_helper.from_array(np.array(scale, np.float32), p + '_Ws'),
                              numpy_helper.from_array(np.array(zp), p + '_Wzp')])
        x, y = n.input[0], n.output[0]
        nodes += [helper.make_node('DynamicQuantizeLinear', [x], [p + '_xq', p + '_xs', p + '_xzp']),
                  helper.make_node('MatMulInteger', [p + '_xq', p + '_W', p + '_xzp', p + '_Wzp'], [p + '_i32']),
                  helper.make_node('Cast', [p + '_i32'], [p + '_f'], to=TensorProto.FLOAT),
                  helper.make_node('Mul', [p + '_xs', p + '_Ws'], [p + '_s']),
                  helper.make_node('Mul', [p + '_f', p + '_s'], [y])]
    nodes = quantize_gathers(g, nodes, uint8=weight_type == 'uint8')
    outputs = {o.name for o in g.output}
    while True:  # drop nodes whose outputs nothing reads any more (the weights' Transposes)
        used = {i for n in nodes for i in n.input} | outputs
        kept = [n for n in nodes if any(o in used for o in n.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return k


def to_q4_matmulnbits(src, dst, block=16, deq=None):
    """fp32 graph -> model_q4.onnx as onnxruntime's MatMul4BitsQuantizer writes it: every MatMul with a
    weight becomes com.microsoft MatMulNBits (bits 4, blocks of `block` along K, asymmetric: a uint8
    zero point and a float scale per block; two values per byte, low nibble first); embeddings int8
    (quantize_gathers). Other ops stay float32."""
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer if i.data_type == TensorProto.FLOAT}
    weights = {k: v for k, v in inits.items() if v.ndim == 2}
    source = {k: k for k in weights}
    for n in g.node:
        if n.op_type == 'Transpose' and n.input[0] in inits and inits[n.input[0]].ndim == 2:
            weights[n.output[0]] = inits[n.input[0]].T
            source[n.output[0]] = n.input[0]
    nodes, k = [], 0
    for n in g.node:
        W = weights.get(n.input[1]) if n.op_type == 'MatMul' and len(n.input) == 2 else None
        if W is None:
            nodes.append(n)
            continue
        k += 1
        K, N = W.shape
        nb = (K + block - 1) // block
        Wt = np.zeros((N, nb * block), np.float32)
        Wt[:, :K] = W.T
        Wb = Wt.reshape(N, nb, block)
        lo, hi = np.minimum(Wb.min(-1), 0), np.maximum(Wb.max(-1), 0)
        scale = np.maximum((hi - lo) / 15.0, 1e-8).astype(np.float32)
        zp = np.clip(np.round(-lo / scale), 0, 15).astype(np.uint8)
        q = np.clip(np.round(Wb / scale[..., None]) + zp[..., None], 0, 15).astype(np.uint8)
        if deq is not None:  # the weights MatMulNBits computes with, [K, N]
            deq['matmul'][source[n.input[1]]] = ((q.astype(np.float32) - zp[..., None]) * scale[..., None]).reshape(N, -1)[:, :K].T.copy()
        packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)  # [N, nb, block/2]
        zpad = np.zeros((N, nb + (nb % 2)), np.uint8)
        zpad[:, :nb] = zp
        zpacked = (zpad[:, 0::2] | (zpad[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
        p = f'q4_{k}'
        g.initializer.extend([numpy_helper.from_array(packed, p + '_B'), numpy_helper.from_array(scale.reshape(-1), p + '_scales'),
                              numpy_helper.from_array(zpacked, p + '_zp')])
        nodes.append(helper.make_node('MatMulNBits', [n.input[0], p + '_B', p + '_scales', p + '_zp'], [n.output[0]],
                                      domain='com.microsoft', K=K, N=N, bits=4, block_size=block))
    nodes = quantize_gathers(g, nodes, deq)
    outputs = {o.name for o in g.output}
    while True:
        used = {i for n in nodes for i in n.input} | outputs
        kept = [n for n in nodes if any(o in used for o in n.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    if not any(o.domain == 'com.microsoft' for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid('com.microsoft', 1))
    onnx.save(m, dst)
    return k


# onnxruntime's 4-bit code books (contrib_ops/cpu/quantization/blockwise_quant_block_bnb4.h)
FP4 = np.array([0.0, 5.208333333e-03, 0.66666667, 1.0, 0.33333333, 0.5, 0.16666667, 0.25,
                -0.0, -5.208333333e-03, -0.66666667, -1.0, -0.33333333, -0.5, -0.16666667, -0.25], np.float32)
NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0], np.float32)


def to_bnb4(src, dst, block=16, quant_type=1, deq=None):
    """fp32 graph -> model_bnb4.onnx as onnxruntime's MatMulBnb4Quantizer writes it: every MatMul with a
    weight W [K, N] becomes com.microsoft MatMulBnb4(x, B, absmax) with quant_type 1 (NF4) or 0 (FP4):
    W^T [N, K] flattened and cut in blocks of `block` (a power of 2, >= 16; blocks may run across rows),
    each block's absmax (float32) and per value the code of the nearest code book entry to v / absmax,
    two codes per byte, the first in the high nibble. Embeddings stay float32 (the quantizer touches
    MatMuls only). `deq` receives the weights the kernel computes with (code book value * absmax)."""
    book = NF4 if quant_type == 1 else FP4
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer if i.data_type == TensorProto.FLOAT}
    weights = {k: v for k, v in inits.items() if v.ndim == 2}
    source = {k: k for k in weights}
    for n in g.node:
        if n.op_type == 'Transpose' and n.input[0] in inits and inits[n.input[0]].ndim == 2:
            weights[n.output[0]] = inits[n.input[0]].T
            source[n.output[0]] = n.input[0]
    nodes, k = [], 0
    for n in g.node:
        W = weights.get(n.input[1]) if n.op_type == 'MatMul' and len(n.input) == 2 else None
        if W is None:
            nodes.append(n)
            continue
        k += 1
        K, N = W.shape
        flat = np.ascontiguousarray(W.T).reshape(-1).astype(np.float32)
        nb = (flat.size + block - 1) // block
        padded = np.zeros(nb * block, np.float32)
        padded[:flat.size] = flat
        blocks = padded.reshape(nb, block)
        absmax = np.abs(blocks).max(-1).astype(np.float32)
        recip = np.where(absmax > 0, 1.0 / np.maximum(absmax, 1e-30), 0.0).astype(np.float32)
        v = blocks * recip[:, None]
        codes = np.abs(v[..., None] - book[None, None, :]).argmin(-1).astype(np.uint8)  # [nb, block]
        if deq is not None:  # [K, N]
            deq['matmul'][source[n.input[1]]] = (book[codes] * absmax[:, None]).reshape(-1)[:flat.size].reshape(N, K).T.copy()
        c = codes.reshape(-1)[:flat.size]
        if c.size % 2:
            c = np.concatenate([c, np.zeros(1, np.uint8)])
        packed = ((c[0::2] << 4) | c[1::2]).astype(np.uint8)
        p = f'bnb4_{k}'
        g.initializer.extend([numpy_helper.from_array(packed, p + '_B'), numpy_helper.from_array(absmax, p + '_absmax')])
        nodes.append(helper.make_node('MatMulBnb4', [n.input[0], p + '_B', p + '_absmax'], [n.output[0]],
                                      domain='com.microsoft', K=K, N=N, block_size=block, quant_type=quant_type))
    outputs = {o.name for o in g.output}
    while True:
        used = {i for n in nodes for i in n.input} | outputs
        kept = [n for n in nodes if any(o in used for o in n.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    if not any(o.domain == 'com.microsoft' for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid('com.microsoft', 1))
    onnx.save(m, dst)
    return k


def save_external(src, dst_dir):
    """Re-saves an ONNX file with every weight in onnx/model.onnx_data (as large hub exports ship)."""
    m = onnx.load(src)
    onnx.save_model(m, os.path.join(dst_dir, 'model.onnx'), save_as_external_data=True, all_tensors_to_one_file=True,
                    location='model.onnx_data', size_threshold=0)


# ---------------------------------------------------------------------------------------------
# Tokenizers


def bundled_tokenizer():
    with open(BUNDLED_TOKENIZER, encoding='utf-8') as fh:
        return json.load(fh)


def write_tok(folder, tok_json):
    with open(os.path.join(folder, 'tokenizer.json'), 'w', encoding='utf-8') as fh:
        json.dump(tok_json, fh, ensure_ascii=False, separators=(',', ':'))


def gpt2_tokenizer_config(extra=None):
    c = {'tokenizer_class': 'GPT2Tokenizer', 'model_max_length': ARCH['ctx'], 'bos_token': '<|endoftext|>',
         'eos_token': '<|endoftext|>', 'unk_token': '<|endoftext|>', 'add_bos_token': False,
         'add_prefix_space': False, 'clean_up_tokenization_spaces': False}
    c.update(extra or {})
    return c


def llama_tokenizer():
    t = bundled_tokenizer()
    for i, content in ((4096, '<s>'), (4097, '<|im_end|>')):
        t['added_tokens'].append({'id': i, 'content': content, 'single_word': False, 'lstrip': False, 'rstrip': False,
                                  'normalized': False, 'special': True})
    t['post_processor'] = {'type': 'Sequence', 'processors': [
        {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
        {'type': 'TemplateProcessing',
         'single': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
         'pair': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                  {'SpecialToken': {'id': '<s>', 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
         'special_tokens': {'<s>': {'id': '<s>', 'ids': [4096], 'tokens': ['<s>']}}}]}
    return t


BERT_WORDS = ('the a an of and to in is it this that we will be for on at with our all us day very good bad great '
              'terrible peace war win lose debt fear hope love hate state union people must never forget '
              'happy sad nice awful best worst').split()


def bert_tokenizer():
    specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    chars = list('abcdefghijklmnopqrstuvwxyz0123456789') + list('.,!?;:\'"-()')
    vocab = {}
    for t in specials + chars + ['##' + c for c in 'abcdefghijklmnopqrstuvwxyz0123456789'] + BERT_WORDS:
        if t not in vocab:
            vocab[t] = len(vocab)
    added = [{'id': i, 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False,
              'special': True} for i, s in enumerate(specials)]
    tj = {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added,
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True,
                       'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {'type': 'TemplateProcessing',
                           'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                                      {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
                           'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                                    {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}},
                                    {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
                           'special_tokens': {'[CLS]': {'id': '[CLS]', 'ids': [2], 'tokens': ['[CLS]']},
                                              '[SEP]': {'id': '[SEP]', 'ids': [3], 'tokens': ['[SEP]']}}},
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##',
                  'max_input_chars_per_word': 100, 'vocab': vocab},
    }
    return tj, vocab


def wordpiece(vocab, text):
    """BERT's basic + WordPiece tokenization for the fixture vocabulary (lowercase, split on space and punctuation)."""
    import unicodedata
    words, cur = [], ''
    for ch in text.lower():
        if ch.isspace():
            if cur:
                words.append(cur)
            cur = ''
        elif unicodedata.category(ch).startswith('P'):
            if cur:
                words.append(cur)
            words.append(ch)
            cur = ''
        else:
            cur += ch
    if cur:
        words.append(cur)
    ids = [vocab['[CLS]']]
    for w in words:
        start, pieces = 0, []
        while start < len(w):
            end, found = len(w), None
            while start < end:
                sub = ('##' if start else '') + w[start:end]
                if sub in vocab:
                    found = sub
                    break
                end -= 1
            if found is None:
                pieces = [vocab['[UNK]']]
                break
            pieces.append(vocab[found])
            start = end
        ids += pieces
    return ids + [vocab['[SEP]']]


# ---------------------------------------------------------------------------------------------
# Models


def make_gpt(vocab, s):
    seed(s)
    g = GPT(vocab, **ARCH)
    with torch.no_grad():  # larger weights than GPT-2's init, so logits are far from flat
        for p in g.parameters():
            if p.dim() > 1:
                p.mul_(8.0)
    return g.eval()


class GPT2Classifier(nn.Module):
    """HF GPT2ForSequenceClassification: positions 0..T-1, logits at the last token that is not pad."""

    def __init__(self, gpt, labels, pad):
        super().__init__()
        self.gpt, self.pad = gpt, pad
        self.score = nn.Linear(gpt.cfg['d'], labels, bias=False)
        nn.init.normal_(self.score.weight, 0.0, 1.0)

    def forward(self, input_ids, attention_mask):
        B, T = input_ids.shape
        pos = torch.arange(T).unsqueeze(0).expand(B, T)
        h, _ = self.gpt.hidden(input_ids, attention_mask, pos)
        logits = self.score(h)  # [B, T, labels]
        non_pad = (input_ids != self.pad).long()
        last = (non_pad * torch.arange(T).unsqueeze(0)).argmax(-1)
        return logits[torch.arange(B), last]


class Bert(nn.Module):
    """A BERT encoder: word + position + token-type embeddings, post-LN layers, tanh pooler on [CLS]."""

    def __init__(self, vocab, d=16, layers=2, heads=2, ctx=64, labels=2):
        super().__init__()
        self.heads = heads
        self.word = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(ctx, d)
        self.typ = nn.Embedding(2, d)
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList([nn.ModuleDict({
            'qkv': nn.Linear(d, 3 * d), 'o': nn.Linear(d, d), 'ln1': nn.LayerNorm(d, eps=1e-12),
            'fc': nn.Linear(d, 2 * d), 'proj': nn.Linear(2 * d, d), 'ln2': nn.LayerNorm(d, eps=1e-12)}) for _ in range(layers)])
        self.pool = nn.Linear(d, d)
        self.cls = nn.Linear(d, labels)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, 0.0, 0.5)

    def forward(self, input_ids, attention_mask, token_type_ids):
        B, T = input_ids.shape
        D = self.word.weight.shape[1]
        H = self.heads
        pos = torch.arange(T).unsqueeze(0).expand(B, T)
        x = self.ln(self.word(input_ids) + self.pos(pos) + self.typ(token_type_ids))
        bias = (1.0 - attention_mask[:, None, None, :].float()) * -1e4
        for l in self.layers:
            q, k, v = l['qkv'](x).split(D, dim=2)
            q = q.view(B, T, H, D // H).transpose(1, 2)
            k = k.view(B, T, H, D // H).transpose(1, 2)
            v = v.view(B, T, H, D // H).transpose(1, 2)
            a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(D // H) + bias, dim=-1)
            y = (a @ v).transpose(1, 2).reshape(B, T, D)
            x = l['ln1'](x + l['o'](y))
            x = l['ln2'](x + l['proj'](torch.nn.functional.gelu(l['fc'](x))))
        return self.cls(torch.tanh(self.pool(x[:, 0])))


# ---------------------------------------------------------------------------------------------
# References


def f32(v):
    """A float32 value to 7 significant digits (relative error ≤ 5e-7, far below the tests' tolerances;
    keeps reference.json small)."""
    return float('%.7g' % float(v))


def half(t):
    return t.half().float()


def greedy(gpt, ids, steps, fp16):
    """Greedy decoding with a KV cache; with fp16, KV and logits are rounded to float16 as model_fp16 hands them over."""
    x = torch.tensor([ids])
    mask = torch.ones_like(x)
    logits, cache = gpt(x, mask, positions_from_mask(mask))
    first = logits[0, -1]
    if fp16:
        first = half(first)
    out = []
    for _ in range(steps):
        last = half(logits[0, -1]) if fp16 else logits[0, -1]
        nxt = int(last.argmax())
        out.append(nxt)
        if fp16:
            cache = [(half(k), half(v)) for k, v in cache]
        mask = torch.cat([mask, torch.ones(1, 1, dtype=torch.long)], 1)
        pos = positions_from_mask(mask)[:, -1:]
        logits, cache = gpt(torch.tensor([[nxt]]), mask, pos, cache)
    return first, out


def lm_reference(gpt, prompts, fp16_gpt=None):
    ref = {'cases': []}
    with torch.no_grad():
        for n, ids in enumerate(prompts):
            first, toks = greedy(gpt, ids, 12, False)
            case = {'ids': ids, 'logits': [f32(v) for v in first], 'greedy': toks}
            if fp16_gpt is not None:
                f16, t16 = greedy(fp16_gpt, ids, 12, True)
                case['logits_fp16'] = [f32(v) for v in f16[:2048]]  # the first 2,048 ids (size)
                case['greedy_fp16'] = t16
            if n > 0:  # full first-step logits for the first prompt only (size)
                case.pop('logits')
                case.pop('logits_fp16', None)
            ref['cases'].append(case)
    return ref


class Dequantized(nn.Module):
    """The GPT with the weights a q4 graph computes with (dequantized 4-bit matmuls, int8 embeddings; untied head)."""

    def __init__(self, gpt, deq):
        super().__init__()
        import copy
        self.g = copy.deepcopy(gpt)
        sd = self.g.state_dict()
        self.head = None
        for name, Wkn in deq['matmul'].items():
            key = name[len('gpt.'):]
            if key == 'wte.weight':
                self.head = torch.tensor(Wkn)
            else:
                sd[key] = torch.tensor(Wkn.T.copy())
        for name, E in deq['gather'].items():
            sd[name[len('gpt.'):]] = torch.tensor(E)
        self.g.load_state_dict(sd)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        h, cache = self.g.hidden(input_ids, attention_mask, position_ids, past)
        return h @ self.head, cache


def dequantized_llama(model, deq):
    """The Llama with the weights a q4 graph computes with: dequantized 4-bit matmuls, int8 embeddings
    and an untied head (the tied embedding is 4-bit as the head and int8 as the lookup)."""
    import copy
    m = copy.deepcopy(model)
    sd = m.state_dict()
    head = None
    for name, Wkn in deq['matmul'].items():
        assert name.startswith('model.'), name
        key = name[len('model.'):]
        if key == 'embed_tokens.weight':
            head = Wkn
        else:
            sd[key] = torch.tensor(Wkn.T.copy())
    for name, E in deq['gather'].items():
        sd[name[len('model.'):]] = torch.tensor(E)
    m.load_state_dict(sd)
    assert head is not None
    m.lm_head = nn.Linear(head.shape[0], head.shape[1], bias=False)
    with torch.no_grad():
        m.lm_head.weight.copy_(torch.tensor(head.T.copy()))
    return m.eval()


def beam_reference(model, ids, beams, max_new, eos, length_penalty=1.0):
    """Hugging Face's vectorised beam search (_beam_search, early_stopping False, no logits processors)
    in float32, on full-sequence forwards: per step the top max(2, 1 + #EOS)·B of log_softmax + running
    score; the best B that hit no stop run on; top-B ranks that hit EOS or max length may enter the B
    finished slots with score / length ** length_penalty; the early-stop heuristic as HF. Ties go to
    the lower flat index. Returns the finished hypotheses best first: (tokens, score)."""
    NEG = np.float32(-1e9)
    f = np.float32
    running = np.array([0.0] + [NEG] * (beams - 1), np.float32)
    seqs = [[] for _ in range(beams)]
    slots = [(NEG, None, False)] * beams
    unsat = True
    K = max(2, 1 + len(eos)) * beams

    def top(a, n):
        return list(np.argsort(-a, kind='stable')[:n])

    with torch.no_grad():
        for t in range(max_new):
            rows = []
            for b in range(beams):
                x = torch.tensor([ids + seqs[b]])
                mask = torch.ones_like(x)
                logits, _ = model(x, mask, positions_from_mask(mask))
                rows.append(torch.log_softmax(logits[0, -1].float(), -1).numpy().astype(np.float32))
            V = rows[0].shape[0]
            acc = np.concatenate([rows[b] + running[b] for b in range(beams)]).astype(np.float32)
            cands = []
            for i in top(acc, K):
                b, v = divmod(int(i), V)
                cands.append((b, v, acc[i], v in eos or t + 1 >= max_new))
            keyed = np.array([f(c[2] + NEG) if c[3] else c[2] for c in cands], np.float32)
            keep = [cands[i] for i in top(keyed, beams)]
            denom = f((t + 1) ** length_penalty)
            entries = []
            for r, c in enumerate(cands):
                x = f(c[2] / denom)
                if not unsat:
                    x = f(x + NEG)
                if not (r < beams and c[3]):
                    x = f(x + NEG)
                entries.append(x)
            merged = np.array([sl[0] for sl in slots] + entries, np.float32)
            new_slots = []
            for i in top(merged, beams):
                if i < beams:
                    new_slots.append(slots[i])
                else:
                    c = cands[i - beams]
                    new_slots.append((merged[i], seqs[c[0]] + [c[1]], (i - beams) < beams and c[3]))
            slots = new_slots
            seqs = [seqs[c[0]] + [c[1]] for c in keep]
            running = np.array([f(c[2] + NEG) if c[3] else c[2] for c in keep], np.float32)
            best = f(running[0] / f((t + 1) ** length_penalty))
            min_fin = min(sl[0] for sl in slots)
            unsat = unsat and any(best > (min_fin if sl[2] else NEG) for sl in slots)
            if not unsat or all(c[3] for c in cands):
                break
    return [(sl[1], float(sl[0])) for sl in slots]


def fp16_weights(gpt):
    g = GPT(gpt.cfg['vocab'], d=gpt.cfg['d'], layers=gpt.cfg['layers'], heads=gpt.cfg['heads'], ctx=gpt.cfg['ctx'])
    g.load_state_dict({k: half(v) for k, v in gpt.state_dict().items()})
    return g.eval()


# ---------------------------------------------------------------------------------------------
# Folders


def gpt2_config(vocab, extra=None):
    c = {'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2', 'vocab_size': vocab, 'n_positions': ARCH['ctx'],
         'n_ctx': ARCH['ctx'], 'n_embd': ARCH['d'], 'n_layer': ARCH['layers'], 'n_head': ARCH['heads'],
         'activation_function': 'gelu_new', 'layer_norm_epsilon': 1e-5, 'tie_word_embeddings': True,
         'bos_token_id': EOS, 'eos_token_id': EOS}
    c.update(extra or {})
    return c


def fresh(name):
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, 'onnx'))
    return folder


def main():
    os.makedirs(OUT, exist_ok=True)
    tok = bundled_tokenizer()
    vocab = tok['model']['vocab']
    # Prompt ids: the bundled test fixture's encodings (test/fixtures/tokenizer.json) of the same texts.
    with open(os.path.join(ROOT, 'test', 'fixtures', 'tokenizer.json'), encoding='utf-8') as fh:
        cases = {c['text']: c['ids'] for c in json.load(fh)['cases']}
    prompts = [cases[p] for p in PROMPTS]
    assert all(max(p) < len(vocab) for p in prompts)

    # gpt2-lm: fp32 + fp16
    folder = fresh('gpt2-lm')
    g = make_gpt(4096, 1)
    export_lm(g, os.path.join(folder, 'onnx', 'model.onnx'), 4096)
    to_fp16_interface(os.path.join(folder, 'onnx', 'model.onnx'), os.path.join(folder, 'onnx', 'model_fp16.onnx'))
    to_q8_dynamic(os.path.join(folder, 'onnx', 'model.onnx'), os.path.join(folder, 'onnx', 'model_quantized.onnx'))
    deq = {'gather': {}, 'matmul': {}}
    to_q4_matmulnbits(os.path.join(folder, 'onnx', 'model.onnx'), os.path.join(folder, 'onnx', 'model_q4.onnx'), deq=deq)
    write_json(os.path.join(folder, 'config.json'), gpt2_config(4096))
    write_json(os.path.join(folder, 'generation_config.json'), {'bos_token_id': EOS, 'eos_token_id': EOS})
    write_tok(folder, tok)
    write_json(os.path.join(folder, 'tokenizer_config.json'), gpt2_tokenizer_config())
    ref = lm_reference(g, prompts, fp16_weights(g))
    with torch.no_grad():  # q4: the dequantized weights' first-step logits and greedy tokens
        q4 = Dequantized(g, deq).eval()
        for n, c in enumerate(ref['cases']):
            first, toks = greedy(q4, c['ids'], 12, False)
            c['greedy_q4'] = toks
            if n == 0:
                c['logits_q4'] = [f32(v) for v in first[:2048]]  # the first 2,048 ids (size)
    write_json(os.path.join(folder, 'reference.json'), ref)

    # gpt2-lm-external: the same fp32 graph, weights in model.onnx_data
    ext = fresh('gpt2-lm-external')
    save_external(os.path.join(folder, 'onnx', 'model.onnx'), os.path.join(ext, 'onnx'))
    for f in ('config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'reference.json'):
        shutil.copy(os.path.join(folder, f), os.path.join(ext, f))
    ref = json.load(open(os.path.join(ext, 'reference.json')))
    for c in ref['cases']:
        c.pop('logits_fp16', None)
        c.pop('greedy_fp16', None)
    write_json(os.path.join(ext, 'reference.json'), ref)

    # gpt2-lm-quant: gpt2-lm's graph in the other dtypes the hub ships (a folder of its own: < 1 MB each)
    quant = fresh('gpt2-lm-quant')
    src = os.path.join(folder, 'onnx', 'model.onnx')
    to_q8_dynamic(src, os.path.join(quant, 'onnx', 'model_int8.onnx'), 'int8')
    to_q8_dynamic(src, os.path.join(quant, 'onnx', 'model_uint8.onnx'), 'uint8')
    deq = {'gather': {}, 'matmul': {}}
    to_bnb4(src, os.path.join(quant, 'onnx', 'model_bnb4.onnx'), deq=deq)
    for f in ('config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'):
        shutil.copy(os.path.join(folder, f), os.path.join(quant, f))
    ref = lm_reference(g, prompts)
    with torch.no_grad():  # bnb4: the dequantized weights' first-step logits and greedy tokens
        bnb4 = Dequantized(g, deq).eval()
        for n, c in enumerate(ref['cases']):
            first, toks = greedy(bnb4, c['ids'], 12, False)
            c['greedy_bnb4'] = toks
            if n == 0:
                c['logits_bnb4'] = [f32(v) for v in first]
    write_json(os.path.join(quant, 'reference.json'), ref)

    # llama-style: BOS-adding tokenizer, padded vocabulary, generation_config EOS list
    folder = fresh('llama-style')
    g = make_gpt(4104, 2)
    export_lm(g, os.path.join(folder, 'onnx', 'model.onnx'), 4104)
    write_json(os.path.join(folder, 'config.json'), {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': 4104, 'hidden_size': ARCH['d'],
        'num_hidden_layers': ARCH['layers'], 'num_attention_heads': ARCH['heads'], 'num_key_value_heads': ARCH['heads'],
        'head_dim': ARCH['d'] // ARCH['heads'], 'max_position_embeddings': ARCH['ctx'], 'bos_token_id': 4096,
        'eos_token_id': EOS, 'tie_word_embeddings': True})
    write_json(os.path.join(folder, 'generation_config.json'), {'bos_token_id': 4096, 'eos_token_id': [4097, EOS],
                                                                'do_sample': True, 'temperature': 0.7, 'top_p': 0.8})
    write_tok(folder, llama_tokenizer())
    write_json(os.path.join(folder, 'tokenizer_config.json'), {
        'tokenizer_class': 'PreTrainedTokenizerFast', 'model_max_length': ARCH['ctx'], 'bos_token': '<s>',
        'eos_token': '<|im_end|>', 'add_bos_token': True, 'clean_up_tokenization_spaces': False})
    deq = {'gather': {}, 'matmul': {}}
    tmp = os.path.join(folder, 'onnx', 'q4.tmp.onnx')
    to_q4_matmulnbits(os.path.join(folder, 'onnx', 'model.onnx'), tmp, deq=deq)
    to_fp16_interface(tmp, os.path.join(folder, 'onnx', 'model_q4f16.onnx'), weights=False)
    os.remove(tmp)
    ref = lm_reference(g, [[4096] + p for p in prompts])
    with torch.no_grad():  # q4f16: the dequantized weights, KV and logits rounded to float16
        q4 = Dequantized(g, deq).eval()
        for n, c in enumerate(ref['cases']):
            first, toks = greedy(q4, c['ids'], 12, True)
            c['greedy_q4f16'] = toks
            if n == 0:
                c['logits_q4f16'] = [f32(v) for v in first[:2048]]  # the first 2,048 ids (size)
    write_json(os.path.join(folder, 'reference.json'), ref)

    # gpt2-classifier: two labels, pad_token_id 0, HF pooling
    folder = fresh('gpt2-classifier')
    seed(3)
    clf = GPT2Classifier(make_gpt(4096, 3), 2, 0).eval()
    ids = torch.tensor([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]])
    mask = (ids != 0).long()
    torch.onnx.export(clf, (ids, mask), os.path.join(folder, 'onnx', 'model.onnx'),
                      input_names=['input_ids', 'attention_mask'], output_names=['logits'], opset_version=17,
                      do_constant_folding=False,
                      dynamic_axes={'input_ids': {0: 'batch_size', 1: 'sequence_length'},
                                    'attention_mask': {0: 'batch_size', 1: 'sequence_length'}, 'logits': {0: 'batch_size'}})
    to_fp16_interface(os.path.join(folder, 'onnx', 'model.onnx'), os.path.join(folder, 'onnx', 'model_fp16.onnx'))
    write_json(os.path.join(folder, 'config.json'), gpt2_config(4096, {
        'architectures': ['GPT2ForSequenceClassification'], 'pad_token_id': 0,
        'id2label': {'0': 'NEGATIVE', '1': 'POSITIVE'}, 'label2id': {'NEGATIVE': 0, 'POSITIVE': 1}}))
    write_json(os.path.join(folder, 'generation_config.json'), {'bos_token_id': EOS, 'eos_token_id': EOS, 'pad_token_id': 0})
    write_tok(folder, tok)
    write_json(os.path.join(folder, 'tokenizer_config.json'), gpt2_tokenizer_config({'pad_token': '!'}))
    text_ids = {c: cases[c] for c in cases}  # texts with known bundled-tokenizer ids
    with torch.no_grad():
        rows = [{'ids': v, 'logits': [f32(x) for x in clf(torch.tensor([v]), torch.ones(1, len(v), dtype=torch.long))[0]]}
                for v in list(text_ids.values())[:4] if 0 not in v]
    write_json(os.path.join(folder, 'reference.json'), {'labels': ['NEGATIVE', 'POSITIVE'], 'cases': rows})

    # bert-classifier: own WordPiece tokenizer, token_type_ids, [CLS] pooling
    folder = fresh('bert-classifier')
    tj, bvocab = bert_tokenizer()
    seed(4)
    bert = Bert(len(bvocab)).eval()
    ids = torch.tensor([[2, 40, 41, 3, 0], [2, 42, 43, 44, 3]])
    torch.onnx.export(bert, (ids, (ids != 0).long(), torch.zeros_like(ids)), os.path.join(folder, 'onnx', 'model.onnx'),
                      input_names=['input_ids', 'attention_mask', 'token_type_ids'], output_names=['logits'],
                      opset_version=17, do_constant_folding=False,
                      dynamic_axes={'input_ids': {0: 'batch_size', 1: 'sequence_length'},
                                    'attention_mask': {0: 'batch_size', 1: 'sequence_length'},
                                    'token_type_ids': {0: 'batch_size', 1: 'sequence_length'}, 'logits': {0: 'batch_size'}})
    write_json(os.path.join(folder, 'config.json'), {
        'architectures': ['BertForSequenceClassification'], 'model_type': 'bert', 'vocab_size': len(bvocab),
        'hidden_size': 16, 'num_hidden_layers': 2, 'num_attention_heads': 2, 'intermediate_size': 32,
        'max_position_embeddings': ARCH['ctx'], 'type_vocab_size': 2, 'pad_token_id': 0,
        'id2label': {'0': 'NEGATIVE', '1': 'POSITIVE'}, 'label2id': {'NEGATIVE': 0, 'POSITIVE': 1}})
    write_tok(folder, tj)
    write_json(os.path.join(folder, 'tokenizer_config.json'), {
        'tokenizer_class': 'BertTokenizer', 'do_lower_case': True, 'model_max_length': ARCH['ctx'], 'cls_token': '[CLS]',
        'sep_token': '[SEP]', 'pad_token': '[PAD]', 'unk_token': '[UNK]', 'mask_token': '[MASK]'})
    with torch.no_grad():
        rows = []
        for t in TEXTS:
            v = wordpiece(bvocab, t)
            x = torch.tensor([v])
            rows.append({'text': t, 'ids': v, 'logits': [f32(y) for y in bert(x, torch.ones_like(x), torch.zeros_like(x))[0]]})
    write_json(os.path.join(folder, 'reference.json'), {'labels': ['NEGATIVE', 'POSITIVE'], 'cases': rows})

    # llama-gqa: a real Llama graph (llama.py: RMSNorm, RoPE, GQA with 4 heads over 2 KV heads, SwiGLU,
    # tied head) with llama-style's BOS-adding tokenizer; vocabulary = the tokenizer's 4,098 (no padding)
    folder = fresh('llama-gqa')
    seed(5)
    lm = Llama(4098, d=16, layers=2, heads=4, kv_heads=2, inter=32, ctx=64).eval()
    with torch.no_grad():  # larger weights than the init's 0.02, so logits are far from flat
        for p in lm.parameters():
            if p.dim() > 1:
                p.mul_(LLAMA_SCALE)
    export_llama(lm, os.path.join(folder, 'onnx', 'model.onnx'))
    write_json(os.path.join(folder, 'config.json'), llama_config(lm, 4096, 4097))
    write_json(os.path.join(folder, 'generation_config.json'), {'bos_token_id': 4096, 'eos_token_id': 4097})
    write_tok(folder, llama_tokenizer())
    write_json(os.path.join(folder, 'tokenizer_config.json'), {
        'tokenizer_class': 'PreTrainedTokenizerFast', 'model_max_length': 64, 'bos_token': '<s>',
        'eos_token': '<|im_end|>', 'add_bos_token': True, 'clean_up_tokenization_spaces': False})
    deq = {'gather': {}, 'matmul': {}}
    tmp = os.path.join(folder, 'onnx', 'q4.tmp.onnx')
    to_q4_matmulnbits(os.path.join(folder, 'onnx', 'model.onnx'), tmp, deq=deq)
    to_fp16_interface(tmp, os.path.join(folder, 'onnx', 'model_q4f16.onnx'), weights=False)
    os.remove(tmp)
    ref = lm_reference(lm, [[4096] + p for p in prompts])
    with torch.no_grad():
        q4 = dequantized_llama(lm, deq)
        for n, c in enumerate(ref['cases']):
            c['beam4'] = [{'tokens': t, 'score': f32(sc)} for t, sc in beam_reference(lm, c['ids'], 4, 10, {4097})]
            first, toks = greedy(q4, c['ids'], 12, True)
            c['greedy_q4f16'] = toks
            if n == 0:
                c['logits_q4f16'] = [f32(v) for v in first[:2048]]  # the first 2,048 ids (size)
    write_json(os.path.join(folder, 'reference.json'), ref)

    for name in sorted(os.listdir(OUT)):
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(OUT, name)) for f in fs)
        print(f'{name}: {size / 1e6:.2f} MB')
        assert size < 1_000_000, name


if __name__ == '__main__':
    main()
