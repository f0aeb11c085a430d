"""A GPT-2-style decoder with an explicit KV cache, and its sequence reward-model variant.

Shapes follow what transformers.js expects from a `model_type: "gpt2"` export: KV tensors are
[batch, heads, seq, head_dim]; position ids come from the attention mask (cumsum - 1, pads -> 1).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1e9  # finite, so rows that see only padding stay finite


def gelu(x):
    return 0.5 * x * (1.0 + torch.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))


def positions_from_mask(mask):
    pos = mask.long().cumsum(-1) - 1
    return pos.masked_fill(mask == 0, 1)


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, bias, past_k=None, past_v=None):
        B, T, D = x.shape
        H = self.heads
        q, k, v = self.c_attn(self.ln_1(x)).split(D, dim=2)
        q = q.view(B, T, H, D // H).transpose(1, 2)
        k = k.view(B, T, H, D // H).transpose(1, 2)
        v = v.view(B, T, H, D // H).transpose(1, 2)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // H)) + bias
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.c_proj(y)
        x = x + self.mlp_proj(gelu(self.c_fc(self.ln_2(x))))
        return x, k, v


class GPT(nn.Module):
    def __init__(self, vocab, d=128, layers=4, heads=4, ctx=256):
        super().__init__()
        self.cfg = dict(vocab=vocab, d=d, layers=layers, heads=heads, ctx=ctx)
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        self.apply(self._init)
        for n, p in self.named_parameters():
            if n.endswith('c_proj.weight') or n.endswith('mlp_proj.weight'):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def hidden(self, input_ids, attention_mask=None, position_ids=None, past=None):
        """Returns final hidden states [B,T,D] and the new cache [(k, v)] per layer."""
        B, T = input_ids.shape
        P = 0 if past is None else past[0][0].shape[2]
        if attention_mask is None:
            attention_mask = torch.ones(B, P + T, dtype=torch.long)
        if position_ids is None:
            position_ids = positions_from_mask(attention_mask)[:, P:]
        S = P + T
        causal = torch.arange(S).unsqueeze(0) <= (torch.arange(T).unsqueeze(1) + P)  # [T,S]
        allowed = causal.unsqueeze(0).unsqueeze(0) & (attention_mask[:, None, None, :] > 0)
        bias = torch.zeros(allowed.shape, dtype=torch.float32).masked_fill(~allowed, NEG)
        x = self.wte(input_ids) + self.wpe(position_ids)
        cache = []
        for i, blk in enumerate(self.h):
            pk, pv = (None, None) if past is None else past[i]
            x, k, v = blk(x, bias, pk, pv)
            cache.append((k, v))
        return self.ln_f(x), cache

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        h, cache = self.hidden(input_ids, attention_mask, position_ids, past)
        return h @ self.wte.weight.t(), cache


class RewardModel(nn.Module):
    """GPT backbone + scalar head on the last non-padding token (works for left or right padding)."""

    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt
        self.score = nn.Linear(gpt.cfg['d'], 1)
        nn.init.normal_(self.score.weight, 0.0, 0.02)
        nn.init.zeros_(self.score.bias)

    def forward(self, input_ids, attention_mask):
        h, _ = self.gpt.hidden(input_ids, attention_mask)
        S = attention_mask.shape[1]
        last = (attention_mask.long() * torch.arange(S).unsqueeze(0)).argmax(-1)  # [B]
        idx = last.view(-1, 1, 1).expand(-1, 1, h.shape[-1])
        return self.score(torch.gather(h, 1, idx).squeeze(1))  # [B,1]


def seq_logprobs(model, ids, mask, resp_mask):
    """Summed log-prob of the tokens where resp_mask is 1 (right-padded batch, no cache)."""
    logits, _ = model(ids, mask)
    lp = F.log_softmax(logits[:, :-1].float(), dim=-1)
    tok = lp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (tok * resp_mask[:, 1:]).sum(-1)
