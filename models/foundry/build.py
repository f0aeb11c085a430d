"""The model foundry: `npm run models` (= /usr/bin/python3 models/foundry/build.py).

Steps (each caches its result in models/foundry/.work/ and is skipped when the result exists;
`--force` reruns everything, `--from STEP` reruns STEP and everything after it):
  corpus, tokenizer, base, prefs, arm, dpo, rm, evaluate, export
Everything is seeded and runs on one CPU thread, so a rebuild gives the same bits on any machine
with the same torch/OpenBLAS build. Step timings are written to .work/timings.json and the cards.
"""
import argparse
import json
import math
import os
import random
import sys
import time

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import bpe  # noqa: E402
import text  # noqa: E402
from gpt import GPT, RewardModel  # noqa: E402
from lm import pair_batch, pair_logps, sample  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, '.work')
ATTRS = ('positive', 'concise')

# Hyper-parameters (the whole recipe; change here, rebuild, and the cards follow).
VOCAB = 4096
ARCH = dict(d=128, layers=4, heads=4, ctx=256)
BASE = dict(steps=int(os.environ.get('FOUNDRY_BASE_STEPS', 700)), batch=16, block=256, lr=2e-3, warmup=100, wd=0.1)
PREFS = dict(train_pairs=3000, test_pairs=600, max_new=48, prompt_words=(3, 8))
ARM = dict(beta_r=0.1, epochs=2, batch=32, lr=1e-4)
DPO = dict(beta=0.1, epochs=2, batch=32, lr=3e-4)
RM = dict(epochs=2, batch=32, lr=5e-4)
EVAL = dict(samples=64, max_new=40, guide_beta=1.0)


def path(*p):
    return os.path.join(WORK, *p)


def seed_all(s):
    random.seed(s)
    torch.manual_seed(s)


def save_json(p, obj):
    with open(p, 'w', encoding='utf-8') as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=1)


def load_json(p):
    with open(p, encoding='utf-8') as fh:
        return json.load(fh)


def log(*a):
    print(time.strftime('%H:%M:%S'), *a, flush=True)


# ---------------------------------------------------------------- corpus + tokenizer
def step_corpus():
    rng = random.Random(1)
    speeches = text.load_speeches()
    valid_names = {n for i, (n, _) in enumerate(speeches) if i % 20 == 7}  # ~5% of addresses held out
    train = text.documents([s for s in speeches if s[0] not in valid_names], rng)
    valid = text.documents([s for s in speeches if s[0] in valid_names], rng)
    save_json(path('corpus.json'), {'train': train, 'valid': valid, 'valid_speeches': sorted(valid_names)})
    log(f'corpus: {len(train)} train docs, {len(valid)} valid docs')


def step_tokenizer():
    corpus = load_json(path('corpus.json'))
    vocab, merges = bpe.train(corpus['train'], VOCAB)
    tok = bpe.Tokenizer(vocab, merges)
    save_json(path('tokenizer.json'), tok.to_hf_json())
    stream = {}
    for split in ('train', 'valid'):
        ids = []
        for d in corpus[split]:
            ids.extend(tok.encode(d))
            ids.append(tok.eos_id)
        stream[split] = torch.tensor(ids, dtype=torch.int16 if VOCAB < 32768 else torch.int32)
    torch.save(stream, path('stream.pt'))
    log(f'tokenizer: {len(vocab)} tokens; train {len(stream["train"])} tokens, valid {len(stream["valid"])}')


def tokenizer():
    return bpe.Tokenizer.from_hf_json(path('tokenizer.json'))


# ---------------------------------------------------------------- base LM
def batches(stream, batch, block, gen):
    n = len(stream) - block - 1
    while True:
        starts = torch.randint(0, n, (batch,), generator=gen)
        x = torch.stack([stream[s:s + block + 1].long() for s in starts])
        yield x[:, :-1], x[:, 1:]


@torch.no_grad()
def perplexity(model, stream, block=256):
    model.eval()
    nll, n = 0.0, 0
    for s in range(0, len(stream) - block - 1, block):
        x = stream[s:s + block + 1].long().unsqueeze(0)
        logits, _ = model(x[:, :-1])
        nll += F.cross_entropy(logits[0], x[0, 1:], reduction='sum').item()
        n += block
    return math.exp(nll / n)


def lr_at(step, cfg):
    if step < cfg['warmup']:
        return cfg['lr'] * (step + 1) / cfg['warmup']
    p = (step - cfg['warmup']) / max(1, cfg['steps'] - cfg['warmup'])
    return cfg['lr'] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def step_base():
    seed_all(2)
    stream = torch.load(path('stream.pt'))
    model = GPT(VOCAB, **ARCH)
    opt = torch.optim.AdamW(model.parameters(), lr=BASE['lr'], betas=(0.9, 0.95), weight_decay=BASE['wd'])
    gen = torch.Generator().manual_seed(3)
    it = batches(stream['train'], BASE['batch'], BASE['block'], gen)
    t0 = time.time()
    for step in range(BASE['steps']):
        model.train()
        x, y = next(it)
        for g in opt.param_groups:
            g['lr'] = lr_at(step, BASE)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == BASE['steps'] - 1:
            tps = (step + 1) * BASE['batch'] * BASE['block'] / (time.time() - t0)
            log(f'base step {step} loss {loss.item():.3f} ({tps:.0f} tok/s)')
    ppl = perplexity(model, stream['valid'])
    torch.save(model.state_dict(), path('base.pt'))
    save_json(path('base.json'), {'valid_ppl': ppl, 'train_tokens': BASE['steps'] * BASE['batch'] * BASE['block']})
    log(f'base: held-out perplexity {ppl:.1f}')


def load_lm(name):
    m = GPT(VOCAB, **ARCH)
    m.load_state_dict(torch.load(path(f'{name}.pt')))
    m.eval()
    return m


# ---------------------------------------------------------------- preference data
def prompt_of(doc, rng):
    ws = doc.split(' ')
    k = rng.randint(*PREFS['prompt_words'])
    return ' '.join(ws[:k]) if len(ws) > k + 2 else None


def step_prefs():
    seed_all(4)
    rng = random.Random(4)
    tok = tokenizer()
    base = load_lm('base')
    corpus = load_json(path('corpus.json'))
    gen = torch.Generator().manual_seed(5)
    out = {}
    for split, src, n in (('train', corpus['train'], PREFS['train_pairs']), ('test', corpus['valid'], PREFS['test_pairs'])):
        docs = src[:]
        rng.shuffle(docs)
        prompts = []
        for d in docs:
            p = prompt_of(d, rng)
            if p:
                prompts.append(p)
            if len(prompts) == n:
                break
        rows = []
        for b in range(0, len(prompts), 128):
            chunk = prompts[b:b + 128]
            ids = [tok.encode(p) for p in chunk]
            conts = sample(base, ids + ids, tok.eos_id, PREFS['max_new'], gen)
            for i, p in enumerate(chunk):
                pair = []
                for c in (conts[i], conts[i + len(chunk)]):
                    fin = bool(c) and c[-1] == tok.eos_id
                    pair.append((tok.decode(c), fin))
                rows.append({'prompt': p, 'y1': pair[0][0], 'y1_finished': pair[0][1],
                             'y2': pair[1][0], 'y2_finished': pair[1][1]})
            log(f'prefs {split}: {len(rows)}/{len(prompts)}')
        out[split] = rows
    # Labels: one Bradley-Terry draw per pair and attribute, P(y1 > y2) = sigmoid(r(y1) - r(y2)).
    for attr in ATTRS:
        oracle = text.ORACLES[attr]
        lrng = random.Random(f'label-{attr}')
        for split, rows in out.items():
            lines = []
            for i, r in enumerate(rows):
                r1, r2 = oracle(r['y1']), oracle(r['y2'])
                p1 = 1.0 / (1.0 + math.exp(-(r1 - r2)))
                first = lrng.random() < p1
                c, rj = ('y1', 'y2') if first else ('y2', 'y1')
                rc, rr = (r1, r2) if first else (r2, r1)
                lines.append({'id': f'{attr}-{split}-{i}', 'prompt': r['prompt'], 'chosen': r[c], 'rejected': r[rj],
                              'alpha': round(1.0 / (1.0 + math.exp(-(rc - rr))), 6),
                              'attribute': attr, 'oracle_chosen': rc, 'oracle_rejected': rr,
                              'chosen_finished': r[f'{c}_finished'], 'rejected_finished': r[f'{rj}_finished']})
            with open(path(f'prefs-{attr}-{split}.jsonl'), 'w', encoding='utf-8') as fh:
                for line in lines:
                    fh.write(json.dumps(line, ensure_ascii=False) + '\n')
    log('prefs: done')


def read_pairs(attr, split):
    with open(path(f'prefs-{attr}-{split}.jsonl'), encoding='utf-8') as fh:
        return [json.loads(line) for line in fh]


def encode_pairs(rows, tok):
    """Prompt and response tokenized separately, ids concatenated (the DESIGN §4 contract)."""
    return [(tok.encode(r['prompt']), tok.encode(r['chosen']), tok.encode(r['rejected']),
             r['chosen_finished'], r['rejected_finished']) for r in rows]


def train_pairs(model, params, pairs, cfg, loss_fn, seed):
    opt = torch.optim.AdamW(params, lr=cfg['lr'], weight_decay=0.0)
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    steps = cfg['epochs'] * math.ceil(len(pairs) / cfg['batch'])
    k = 0
    for ep in range(cfg['epochs']):
        rng.shuffle(order)
        for b in range(0, len(order), cfg['batch']):
            idx = order[b:b + cfg['batch']]
            for g in opt.param_groups:
                g['lr'] = cfg['lr'] * min(1.0, (k + 1) / 20) * (1 - k / steps)
            model.train()
            loss, acc = loss_fn(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            if k % 40 == 0:
                log(f'  epoch {ep} step {k}/{steps} loss {loss.item():.4f} acc {acc:.3f}')
            k += 1


# ---------------------------------------------------------------- ARM, DPO, RM
def step_arm():
    tok = tokenizer()
    for attr in ATTRS:
        seed_all(10)
        pairs = encode_pairs(read_pairs(attr, 'train'), tok)
        arm = load_lm('base')

        def loss_fn(idx):
            c, r = pair_logps(arm, [pairs[i] for i in idx], tok.eos_id)
            z = ARM['beta_r'] * (c - r)
            return -F.logsigmoid(z).mean(), (z > 0).float().mean().item()

        log(f'arm-{attr}')
        train_pairs(arm, list(arm.parameters()), pairs, ARM, loss_fn, 11)
        torch.save(arm.state_dict(), path(f'arm-{attr}.pt'))


def step_dpo():
    tok = tokenizer()
    ref = load_lm('base')
    for attr in ATTRS:
        seed_all(20)
        pairs = encode_pairs(read_pairs(attr, 'train'), tok)
        with torch.no_grad():
            ref_c, ref_r = [], []
            for b in range(0, len(pairs), 64):
                c, r = pair_logps(ref, pairs[b:b + 64], tok.eos_id)
                ref_c.append(c)
                ref_r.append(r)
            ref_c, ref_r = torch.cat(ref_c), torch.cat(ref_r)
        pol = load_lm('base')

        def loss_fn(idx):
            c, r = pair_logps(pol, [pairs[i] for i in idx], tok.eos_id)
            t = torch.tensor(idx)
            z = DPO['beta'] * ((c - ref_c[t]) - (r - ref_r[t]))
            return -F.logsigmoid(z).mean(), (z > 0).float().mean().item()

        log(f'dpo-{attr}')
        train_pairs(pol, list(pol.parameters()), pairs, DPO, loss_fn, 21)
        torch.save(pol.state_dict(), path(f'dpo-{attr}.pt'))


def rm_scores(rm, pairs, eos, with_eos=True):
    rows = []
    for p, c, r, cf, rf in pairs:
        rows.append(p + c + ([eos] if with_eos and cf else []))
        rows.append(p + r + ([eos] if with_eos and rf else []))
    from lm import right_pad
    ids, mask = right_pad(rows, eos)
    s = rm(ids, mask).squeeze(-1)
    return s[0::2], s[1::2]


def load_rm(name):
    rm = RewardModel(GPT(VOCAB, **ARCH))
    rm.load_state_dict(torch.load(path(f'{name}.pt')))
    rm.eval()
    return rm


def step_rm():
    tok = tokenizer()
    for attr in ATTRS:
        seed_all(30)
        pairs = encode_pairs(read_pairs(attr, 'train'), tok)
        rm = RewardModel(load_lm('base'))

        def loss_fn(idx):
            c, r = rm_scores(rm, [pairs[i] for i in idx], tok.eos_id, with_eos=False)
            return -F.logsigmoid(c - r).mean(), (c > r).float().mean().item()

        log(f'rm-{attr}')
        train_pairs(rm, list(rm.parameters()), pairs, RM, loss_fn, 31)
        torch.save(rm.state_dict(), path(f'rm-{attr}.pt'))


# ---------------------------------------------------------------- evaluation
def accuracy(c, r):
    c, r = torch.as_tensor(c), torch.as_tensor(r)
    return ((c > r).float() + 0.5 * (c == r).float()).mean().item()


@torch.no_grad()
def batched(fn, pairs, bs=64):
    cs, rs = [], []
    for b in range(0, len(pairs), bs):
        c, r = fn(pairs[b:b + bs])
        cs.append(c)
        rs.append(r)
    return torch.cat(cs), torch.cat(rs)


@torch.no_grad()
def step_evaluate():
    tok = tokenizer()
    stream = torch.load(path('stream.pt'))
    base = load_lm('base')
    res = {'base': {'valid_ppl': load_json(path('base.json'))['valid_ppl']}}
    eos = tok.eos_id
    # Ranking accuracy on the held-out pairs, scored as DESIGN §4 (no EOS, separate tokenization).
    base_lp = {}
    for attr in ATTRS:
        rows = read_pairs(attr, 'test')
        pairs = encode_pairs(rows, tok)
        bc, br = batched(lambda ps: pair_logps(base, ps, eos, with_eos=False), pairs)
        base_lp[attr] = (bc, br)
        res['base'][f'ranking_accuracy_{attr}'] = accuracy(bc, br)
        arm = load_lm(f'arm-{attr}')
        ac, ar = batched(lambda ps: pair_logps(arm, ps, eos, with_eos=False), pairs)
        dpo = load_lm(f'dpo-{attr}')
        dc, dr = batched(lambda ps: pair_logps(dpo, ps, eos, with_eos=False), pairs)
        rm = load_rm(f'rm-{attr}')
        rc, rr = batched(lambda ps: rm_scores(rm, ps, eos, with_eos=False), pairs)
        oc = torch.tensor([r['oracle_chosen'] for r in rows])
        orj = torch.tensor([r['oracle_rejected'] for r in rows])
        res[f'arm-{attr}'] = {'ranking_accuracy': accuracy(ac, ar), 'valid_ppl': perplexity(arm, stream['valid'])}
        res[f'dpo-{attr}'] = {'ranking_accuracy': accuracy(dc, dr),
                              'implicit_reward_accuracy': accuracy(DPO['beta'] * (dc - bc), DPO['beta'] * (dr - br)),
                              'valid_ppl': perplexity(dpo, stream['valid'])}
        res[f'rm-{attr}'] = {'ranking_accuracy': accuracy(rc, rr)}
        res[f'oracle-{attr}'] = {'ranking_accuracy': accuracy(oc, orj), 'n_pairs': len(rows),
                                 'mean_alpha': sum(r['alpha'] for r in rows) / len(rows)}
        log(f'eval {attr}: ' + json.dumps({k: v for k, v in res.items() if attr in k}))
    # Guided vs unguided samples: 64 held-out prompts, T = 1, max 40 new tokens.
    prompts = [tok.encode(r['prompt']) for r in read_pairs('positive', 'test')[:EVAL['samples']]]
    prompt_texts = [r['prompt'] for r in read_pairs('positive', 'test')[:EVAL['samples']]]

    def mean_oracle(conts, attr):
        return sum(text.ORACLES[attr](tok.decode(c)) for c in conts) / len(conts)

    unguided = sample(base, prompts, eos, EVAL['max_new'], torch.Generator().manual_seed(40))
    examples = {'prompts': prompt_texts[:4], 'base': [tok.decode(c) for c in unguided[:4]]}
    for attr in ATTRS:
        arm = load_lm(f'arm-{attr}')
        guided = sample(base, prompts, eos, EVAL['max_new'], torch.Generator().manual_seed(40), guides=(arm,), beta=EVAL['guide_beta'])
        dpo = load_lm(f'dpo-{attr}')
        tuned = sample(dpo, prompts, eos, EVAL['max_new'], torch.Generator().manual_seed(40))
        res[f'arm-{attr}'].update(oracle_unguided=mean_oracle(unguided, attr), oracle_guided=mean_oracle(guided, attr))
        res[f'dpo-{attr}'].update(oracle_unguided=mean_oracle(unguided, attr), oracle_tuned=mean_oracle(tuned, attr))
        examples[f'genarm-{attr}'] = [tok.decode(c) for c in guided[:4]]
        examples[f'dpo-{attr}'] = [tok.decode(c) for c in tuned[:4]]
    res['examples'] = examples
    save_json(path('eval.json'), res)
    log('evaluate: ' + json.dumps(res, indent=1))


STEPS = ['corpus', 'tokenizer', 'base', 'prefs', 'arm', 'dpo', 'rm', 'evaluate', 'export']
DONE_FILE = {'corpus': 'corpus.json', 'tokenizer': 'stream.pt', 'base': 'base.pt', 'prefs': 'prefs-concise-test.jsonl',
             'arm': 'arm-concise.pt', 'dpo': 'dpo-concise.pt', 'rm': 'rm-concise.pt', 'evaluate': 'eval.json',
             'export': None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--force', action='store_true', help='rerun every step')
    ap.add_argument('--from', dest='start', choices=STEPS, help='rerun this step and all later ones')
    ap.add_argument('--only', choices=STEPS, help='run just this step')
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    timings_path = path('timings.json')
    timings = load_json(timings_path) if os.path.exists(timings_path) else {}
    rerun = a.force
    for s in STEPS:
        if a.start == s:
            rerun = True
        if a.only and s != a.only:
            continue
        done = DONE_FILE[s] and os.path.exists(path(DONE_FILE[s]))
        if done and not rerun and not a.only:
            log(f'{s}: cached')
            continue
        t0 = time.time()
        log(f'{s}: start')
        if s == 'export':
            import export
            export.run(timings)
        else:
            globals()[f'step_{s}']()
        # Re-read before writing: steps may run in parallel processes (--only arm / --only dpo).
        latest = load_json(timings_path) if os.path.exists(timings_path) else {}
        timings = {**latest, **timings, s: round(time.time() - t0, 1)}
        save_json(timings_path, timings)
        log(f'{s}: {timings[s]} s')


if __name__ == '__main__':
    main()
