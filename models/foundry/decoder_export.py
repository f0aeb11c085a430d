"""One ONNX export for every decoder the foundry makes (gpt.py's GPT-2, llama.py's Llama): Optimum's
input/output names and dynamic axes, so transformers.js loads them like hub exports.

Inputs input_ids, attention_mask, position_ids, past_key_values.N.key/value
[batch, kv_heads, past, head_dim]; outputs logits [batch, seq, vocab], present.N.key/value. The model's
forward is `model(input_ids, attention_mask, position_ids, past) -> (logits, [(k, v)] per layer)`
and its `cfg` names layers, heads, d and, for grouped-query attention, kv_heads.
"""
import torch
import torch.nn as nn


def positions_from_mask(mask):
    pos = mask.long().cumsum(-1) - 1
    return pos.masked_fill(mask == 0, 1)


class LMExport(nn.Module):
    """The model under the attribute `attr`, which prefixes the graph's initializer names (gpt.*, model.*)."""

    def __init__(self, model, attr='gpt'):
        super().__init__()
        self.attr = attr
        setattr(self, attr, model)

    def forward(self, input_ids, attention_mask, position_ids, *flat_past):
        past = [(flat_past[2 * i], flat_past[2 * i + 1]) for i in range(len(flat_past) // 2)]
        logits, cache = getattr(self, self.attr)(input_ids, attention_mask, position_ids, past)
        out = [logits]
        for k, v in cache:
            out += [k, v]
        return tuple(out)


def export_decoder(model, dst, vocab, opset=17, attr='gpt'):
    c = model.cfg
    L, H, D = c['layers'], c['heads'], c['d']
    KV = c.get('kv_heads', H)
    Bsz, T, P = 2, 3, 4
    ids = torch.randint(0, vocab, (Bsz, T))
    mask = torch.ones(Bsz, P + T, dtype=torch.long)
    pos = positions_from_mask(mask)[:, P:]
    past, names_in, names_out = [], ['input_ids', 'attention_mask', 'position_ids'], ['logits']
    axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
            'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
            'position_ids': {0: 'batch_size', 1: 'sequence_length'},
            'logits': {0: 'batch_size', 1: 'sequence_length'}}
    for i in range(L):
        for kv in ('key', 'value'):
            past.append(torch.randn(Bsz, KV, P, D // H))
            names_in.append(f'past_key_values.{i}.{kv}')
            names_out.append(f'present.{i}.{kv}')
            axes[f'past_key_values.{i}.{kv}'] = {0: 'batch_size', 2: 'past_sequence_length'}
            axes[f'present.{i}.{kv}'] = {0: 'batch_size', 2: 'total_sequence_length'}
    with torch.no_grad():
        torch.onnx.export(LMExport(model, attr).eval(), (ids, mask, pos, *past), dst, input_names=names_in,
                          output_names=names_out, dynamic_axes=axes, opset_version=opset, do_constant_folding=False)
