"""Batched sampling with a KV cache, optional GenARM guidance, and the training losses."""
import torch
import torch.nn.functional as F

from gpt import seq_logprobs


def left_pad(rows, pad):
    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), T), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, T - len(r):] = torch.tensor(r)
        mask[i, T - len(r):] = 1
    return ids, mask


def right_pad(rows, pad):
    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), T), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids, mask


@torch.no_grad()
def sample(model, prompts, eos, max_new, gen, temperature=1.0, guides=(), beta=1.0, greedy=False):
    """Continuations (token lists, EOS included when reached) of each prompt.

    guides: ARMs combined GenARM-style, s = l_base + (1/beta) * sum(l_arm)."""
    ids, mask = left_pad(prompts, eos)
    models = [model, *guides]
    caches = [None] * len(models)
    B = ids.shape[0]
    out = [[] for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool)
    step_ids = ids
    for _ in range(max_new):
        s = None
        for m_i, m in enumerate(models):
            logits, caches[m_i] = m(step_ids, mask, past=caches[m_i])
            lp = F.log_softmax(logits[:, -1].float(), dim=-1)
            s = lp if s is None else s + lp / beta
        if greedy:
            nxt = s.argmax(-1)
        else:
            probs = torch.softmax(s / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=gen).squeeze(-1)
        for b in range(B):
            if not done[b]:
                out[b].append(int(nxt[b]))
        done |= nxt == eos
        if bool(done.all()):
            break
        step_ids = nxt.unsqueeze(-1)
        mask = torch.cat([mask, torch.ones(B, 1, dtype=torch.long)], dim=1)
    return out


def pair_batch(pairs, eos, with_eos=True):
    """(prompt_ids, chosen_ids, rejected_ids, chosen_finished, rejected_finished) -> padded tensors."""
    rows, resp = [], []
    for p, c, r, cf, rf in pairs:
        for y, fin in ((c, cf), (r, rf)):
            y = y + ([eos] if (with_eos and fin) else [])
            rows.append(p + y)
            resp.append([0] * len(p) + [1] * len(y))
    ids, mask = right_pad(rows, eos)
    rmask = torch.zeros_like(mask, dtype=torch.float32)
    for i, r in enumerate(resp):
        rmask[i, :len(r)] = torch.tensor(r, dtype=torch.float32)
    return ids, mask, rmask


def pair_logps(model, pairs, eos, with_eos=True):
    ids, mask, rmask = pair_batch(pairs, eos, with_eos)
    lp = seq_logprobs(model, ids, mask, rmask)
    return lp[0::2], lp[1::2]
