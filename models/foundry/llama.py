"""A Llama-architecture decoder (RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP) with an
explicit KV cache, exported with the inputs and outputs of an Optimum / onnx-community Llama export.

    model = Llama(vocab=49152, d=576, layers=30, heads=9, kv_heads=3, inter=1536)   # SmolLM2-135M's shape
    export_llama(model, 'onnx/model.onnx')

It follows Hugging Face's `LlamaForCausalLM` arithmetic (modeling_llama.py): RMSNorm with its weight
applied after the float32 normalisation, RoPE by `rotate_half` on [cos, cos] / [sin, sin] halves with
`rope_theta`, the K/V heads repeated `heads // kv_heads` times for attention (the cache keeps
`kv_heads`), SiLU-gated MLP, an LM head tied to the embeddings when `tie` (SmolLM2, Qwen2.5-0.5B).
ONNX interface: input_ids, attention_mask, position_ids, past_key_values.N.key/value
[batch, kv_heads, past, head_dim] → logits [batch, seq, vocab], present.N.key/value. Padding is
masked with a finite -1e9, so rows that see only padding stay finite (as gpt.py does).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from decoder_export import export_decoder

NEG = -1e9


def positions_from_mask(mask):
    pos = mask.long().cumsum(-1) - 1
    return pos.masked_fill(mask == 0, 1)


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        v = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(v + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Rotary(nn.Module):
    def __init__(self, head_dim, theta):
        super().__init__()
        self.register_buffer('inv_freq', 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim)), persistent=False)

    def forward(self, position_ids):
        freqs = position_ids.float()[:, :, None] * self.inv_freq[None, None, :]  # [B,T,hd/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos()[:, None], emb.sin()[:, None]  # [B,1,T,hd]


class Block(nn.Module):
    def __init__(self, d, heads, kv_heads, inter):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, d // heads
        self.input_layernorm = RMSNorm(d)
        self.q_proj = nn.Linear(d, heads * self.hd, bias=False)
        self.k_proj = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.v_proj = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.o_proj = nn.Linear(heads * self.hd, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d)
        self.gate_proj = nn.Linear(d, inter, bias=False)
        self.up_proj = nn.Linear(d, inter, bias=False)
        self.down_proj = nn.Linear(inter, d, bias=False)

    def forward(self, x, bias, cos, sin, past_k=None, past_v=None):
        B, T, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(B, T, self.kv_heads, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.kv_heads, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        rep = self.heads // self.kv_heads
        # repeat_kv as Hugging Face writes it: each K/V head serves `rep` query heads (kv head j -> j*rep..)
        S, hd = k.shape[2], self.hd
        kr = k[:, :, None].expand(B, self.kv_heads, rep, S, hd).reshape(B, self.heads, S, hd)
        vr = v[:, :, None].expand(B, self.kv_heads, rep, S, hd).reshape(B, self.heads, S, hd)
        att = (q @ kr.transpose(-2, -1)) * (1.0 / math.sqrt(self.hd)) + bias
        y = (torch.softmax(att, dim=-1) @ vr).transpose(1, 2).reshape(B, T, self.heads * self.hd)
        x = x + self.o_proj(y)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h)), k, v


class Llama(nn.Module):
    def __init__(self, vocab, d=64, layers=2, heads=4, kv_heads=2, inter=None, ctx=2048, theta=10000.0, tie=True):
        super().__init__()
        inter = inter or 4 * d
        self.cfg = dict(vocab=vocab, d=d, layers=layers, heads=heads, kv_heads=kv_heads, inter=inter, ctx=ctx,
                        theta=theta, tie=tie)
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([Block(d, heads, kv_heads, inter) for _ in range(layers)])
        self.norm = RMSNorm(d)
        self.rotary = Rotary(d // heads, theta)
        self.lm_head = None if tie else nn.Linear(d, vocab, bias=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        B, T = input_ids.shape
        P = 0 if past is None else past[0][0].shape[2]
        if attention_mask is None:
            attention_mask = torch.ones(B, P + T, dtype=torch.long)
        if position_ids is None:
            position_ids = positions_from_mask(attention_mask)[:, P:]
        S = P + T
        causal = torch.arange(S).unsqueeze(0) <= (torch.arange(T).unsqueeze(1) + P)
        allowed = causal.unsqueeze(0).unsqueeze(0) & (attention_mask[:, None, None, :] > 0)
        bias = torch.zeros(allowed.shape, dtype=torch.float32).masked_fill(~allowed, NEG)
        cos, sin = self.rotary(position_ids)
        x = self.embed_tokens(input_ids)
        cache = []
        for i, blk in enumerate(self.layers):
            pk, pv = (None, None) if past is None else past[i]
            x, k, v = blk(x, bias, cos, sin, pk, pv)
            cache.append((k, v))
        h = self.norm(x)
        w = self.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        return h @ w.t(), cache


def export_llama(model, dst, opset=17):
    """Exports with Optimum's names and dynamic axes (decoder_export.py)."""
    export_decoder(model, dst, model.cfg['vocab'], opset, attr='model')


def llama_config(model, bos, eos, extra=None):
    """config.json of a LlamaForCausalLM with this model's shape."""
    c = model.cfg
    out = {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': c['vocab'],
           'hidden_size': c['d'], 'intermediate_size': c['inter'], 'num_hidden_layers': c['layers'],
           'num_attention_heads': c['heads'], 'num_key_value_heads': c['kv_heads'], 'head_dim': c['d'] // c['heads'],
           'max_position_embeddings': c['ctx'], 'rope_theta': c['theta'], 'rms_norm_eps': 1e-5,
           'hidden_act': 'silu', 'tie_word_embeddings': c['tie'], 'bos_token_id': bos, 'eos_token_id': eos}
    out.update(extra or {})
    return out
