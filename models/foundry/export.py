"""Export step: ONNX files, HF-layout folders, model cards, manifest, datasets and test fixtures."""
import hashlib
import json
import os
import shutil

import torch
import torch.nn as nn

import build as B
import text
from gpt import GPT, RewardModel, positions_from_mask
from decoder_export import export_decoder

ROOT = text.ROOT
MODELS = os.path.join(ROOT, 'models')
FIXTURES = os.path.join(ROOT, 'test', 'fixtures')
LICENSE = 'CC-BY-4.0'
ATTR_TEXT = {
    'positive': 'positivity: the sum of AFINN-111 valences of the words (Nielsen 2011, CC BY 4.0)',
    'concise': 'conciseness: -0.25 per word (fewer words is better)',
}


def export_lm(gpt, dst):
    export_decoder(gpt, dst, B.VOCAB)


def export_rm(rm, dst):
    ids = torch.randint(0, B.VOCAB, (2, 5))
    mask = torch.tensor([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]])
    torch.onnx.export(rm.eval(), (ids, mask), dst, input_names=['input_ids', 'attention_mask'],
                      output_names=['logits'], opset_version=17, do_constant_folding=False,
                      dynamic_axes={'input_ids': {0: 'batch_size', 1: 'sequence_length'},
                                    'attention_mask': {0: 'batch_size', 1: 'sequence_length'},
                                    'logits': {0: 'batch_size'}})


def sha256(p):
    h = hashlib.sha256()
    with open(p, 'rb') as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def write_json(p, obj, indent=2):
    with open(p, 'w', encoding='utf-8') as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=indent)
        fh.write('\n')


def configs(folder, eos, is_rm):
    c = B.ARCH
    cfg = {
        'architectures': ['GPT2ForSequenceClassification' if is_rm else 'GPT2LMHeadModel'],
        'model_type': 'gpt2', 'vocab_size': B.VOCAB, 'n_positions': c['ctx'], 'n_ctx': c['ctx'],
        'max_position_embeddings': c['ctx'], 'n_embd': c['d'], 'n_layer': c['layers'], 'n_head': c['heads'],
        'activation_function': 'gelu_new', 'layer_norm_epsilon': 1e-5, 'tie_word_embeddings': True,
        'bos_token_id': eos, 'eos_token_id': eos, 'pad_token_id': eos,
        'transformers.js_config': {'dtype': 'fp32'},
    }
    if is_rm:
        cfg.update(num_labels=1, id2label={'0': 'reward'}, label2id={'reward': 0})
    write_json(os.path.join(folder, 'config.json'), cfg)
    write_json(os.path.join(folder, 'generation_config.json'),
               {'bos_token_id': eos, 'eos_token_id': eos, 'pad_token_id': eos, 'max_length': c['ctx'], 'do_sample': False})
    write_json(os.path.join(folder, 'tokenizer_config.json'), {
        'tokenizer_class': 'GPT2Tokenizer', 'model_max_length': c['ctx'], 'padding_side': 'left',
        'bos_token': bpe_eos(), 'eos_token': bpe_eos(), 'unk_token': bpe_eos(), 'pad_token': bpe_eos(),
        'add_bos_token': False, 'add_prefix_space': False, 'clean_up_tokenization_spaces': False})
    with open(B.path('tokenizer.json'), encoding='utf-8') as fh:
        tok_json = json.load(fh)
    with open(os.path.join(folder, 'tokenizer.json'), 'w', encoding='utf-8') as fh:
        json.dump(tok_json, fh, ensure_ascii=False, separators=(',', ':'))  # minified: 7 copies ship


def bpe_eos():
    import bpe
    return bpe.EOS


def card(mid, role, params, body, ev, timings):
    c = B.ARCH
    lines = [
        '---', f'license: {LICENSE.lower()}', 'library_name: transformers.js', 'pipeline_tag: text-generation' if role != 'sequence_rm' else 'pipeline_tag: text-classification',
        '---', f'# {mid}', '', body, '',
        '## Architecture', '',
        f'GPT-2-style decoder: {c["layers"]} layers, {c["heads"]} heads, width {c["d"]}, context {c["ctx"]} tokens, '
        f'{B.VOCAB}-token byte-level BPE shared by every bundled model, tied input/output embeddings. '
        f'{params:,} parameters; `onnx/model.onnx` is fp32 (opset 17).', '',
        '## Data', '',
        f'Corpus: {text.CORPUS_SOURCE}, {text.CORPUS_LICENSE}. Addresses are cut into documents of one or two '
        'sentences, each followed by `<|endoftext|>`; every 20th address is held out.', '',
        '## Measured quality', '', '```json', json.dumps(ev, indent=1), '```', '',
        f'Foundry step times on the build machine (seconds, one CPU thread): `{json.dumps(timings)}`.', '',
        *card_extra(mid),
        'Rebuild with `npm run models` (see `models/foundry/README.md`).', '',
    ]
    return '\n'.join(lines)


def card_extra(mid):
    """Card text measured outside the foundry (e.g. `npm run bench:lesson`), kept in models/foundry/cards/<id>.md."""
    p = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cards', f'{mid}.md')
    if not os.path.exists(p):
        return []
    with open(p, encoding='utf-8') as fh:
        return [fh.read().strip(), '']


def describe(mid, attr=None):
    if mid == 'tiny-base':
        return ('The policy, and the reference model for the DPO-tuned models. Trained from scratch for '
                f'{B.BASE["steps"]} steps of {B.BASE["batch"]}x{B.BASE["block"]} tokens (AdamW, cosine schedule, peak '
                f'lr {B.BASE["lr"]}). Load with `AutoModelForCausalLM.from_pretrained(id, {{ dtype: "fp32" }})`.')
    a = ATTR_TEXT[attr]
    if mid.startswith('tiny-arm'):
        return (f'Autoregressive reward model (GenARM, Xu et al. 2025) for {a}. Initialised from `tiny-base` and '
                f'trained with the GenARM loss: Bradley-Terry on beta_r * (summed log-prob of chosen - rejected), '
                f'beta_r = {B.ARM["beta_r"]}, no reference model, {B.ARM["epochs"]} epochs over the preference train split, lr {B.ARM["lr"]}. '
                'EOS is appended to responses that ended. Use as `--arm` with `tiny-base` as policy; its per-token '
                'log-probs are the token rewards.')
    if mid.startswith('tiny-dpo'):
        return (f'DPO-tuned (Rafailov et al. 2023) from `tiny-base` on the {attr} preference train split, beta = {B.DPO["beta"]}, '
                f'{B.DPO["epochs"]} epochs, lr {B.DPO["lr"]}, reference `tiny-base`. With `tiny-base` as reference it gives '
                'the DPO implicit reward beta * (log pi_dpo - log pi_ref).')
    return (f'Sequence reward model for {a}: the `tiny-base` backbone plus a scalar head on the last non-padding '
            f'token, Bradley-Terry loss, {B.RM["epochs"]} epochs, lr {B.RM["lr"]}. ONNX inputs `input_ids`, '
            '`attention_mask`; output `logits` [batch, 1] (the reward). transformers.js has no decoder '
            '`AutoModelForSequenceClassification`; load it with `AutoModel.from_pretrained(id, { dtype: "fp32" })`, '
            'which returns `{ logits }`, and read the raw logit (no softmax).')


def fixtures(tok, models, ev):
    os.makedirs(FIXTURES, exist_ok=True)
    texts = ['The state of the Union is', 'We must never forget that',
             'Our economy', ' Hello, world! 42 times: caf\u00e9 \u2014 \U0001F600 it\'s   done\n\nNext.',
             'Peace, prosperity and freedom. War, fear and debt.']
    write_json(os.path.join(FIXTURES, 'tokenizer.json'),
               {'eos_id': tok.eos_id, 'cases': [{'text': t, 'ids': tok.encode(t)} for t in texts]})
    oracle_texts = texts + ["I can't stand it; it's a disaster, but we will win.", 'naive NAIVE good-hearted well-being',
                            'The love of liberty, the abhorrent abuse.', '']
    write_json(os.path.join(FIXTURES, 'oracle.json'),
               {'cases': [{'text': t, 'positive': text.positivity(t), 'concise': text.conciseness(t),
                           'words': len(text.words(t))} for t in oracle_texts]})
    golden = {}
    prompts = [tok.encode(t) for t in texts[:3]]
    cols = list(range(0, B.VOCAB, 64))
    with torch.no_grad():
        for mid, (kind, m) in models.items():
            entry = {'kind': kind, 'cases': []}
            for p in prompts:
                ids = torch.tensor([p])
                if kind == 'sequence_rm':
                    entry['cases'].append({'ids': p, 'score': float(m(ids, torch.ones_like(ids))[0, 0])})
                    continue
                logits, _ = m(ids)
                rows = []
                for pos in sorted({0, len(p) // 2, len(p) - 1}):
                    row = logits[0, pos]
                    top = torch.topk(row, 5)
                    rows.append({'position': pos, 'cols': cols, 'values': [float(row[c]) for c in cols],
                                 'top_ids': top.indices.tolist(), 'top_values': top.values.tolist(),
                                 'logsumexp': float(torch.logsumexp(row, 0))})
                seq, greedy = p[:], []
                for _ in range(20):
                    nxt = int(m(torch.tensor([seq]))[0][0, -1].argmax())
                    greedy.append(nxt)
                    seq.append(nxt)
                    if nxt == tok.eos_id:
                        break
                entry['cases'].append({'ids': p, 'rows': rows, 'greedy': greedy})
            golden[mid] = entry
    write_json(os.path.join(FIXTURES, 'golden.json'), golden, indent=None)


def run(timings):
    tok = B.tokenizer()
    ev = B.load_json(B.path('eval.json'))
    eos = tok.eos_id
    plan = [('tiny-base', 'policy', 'base', None)]
    for attr in B.ATTRS:
        plan += [(f'tiny-arm-{attr}', 'arm', f'arm-{attr}', attr), (f'tiny-dpo-{attr}', 'tuned', f'dpo-{attr}', attr),
                 (f'tiny-rm-{attr}', 'sequence_rm', f'rm-{attr}', attr)]
    manifest = {'version': 1,
                'tokenizer': {'type': 'byte-level BPE', 'vocab_size': B.VOCAB, 'eos_token': bpe_eos(), 'eos_token_id': eos,
                              'shared_by': [p[0] for p in plan]},
                'corpus': {'source': text.CORPUS_SOURCE, 'license': text.CORPUS_LICENSE},
                'oracle': {a: ATTR_TEXT[a] for a in B.ATTRS},
                'models': [], 'datasets': []}
    loaded = {}
    for mid, role, key, attr in plan:
        folder = os.path.join(MODELS, mid)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(os.path.join(folder, 'onnx'))
        onnx_path = os.path.join(folder, 'onnx', 'model.onnx')
        if role == 'sequence_rm':
            m = B.load_rm(key)
            export_rm(m, onnx_path)
        else:
            m = B.load_lm(key)
            export_lm(m, onnx_path)
        loaded[mid] = (role, m)
        params = sum(p.numel() for p in m.parameters())
        configs(folder, eos, role == 'sequence_rm')
        e = {'tiny-base': ev['base']}.get(mid) or ev[key]
        with open(os.path.join(folder, 'README.md'), 'w', encoding='utf-8') as fh:
            fh.write(card(mid, role, params, describe(mid, attr), e, timings))
        files = []
        for rel in ('config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json',
                    'onnx/model.onnx', 'README.md'):
            p = os.path.join(folder, rel)
            files.append({'path': rel, 'bytes': os.path.getsize(p), 'sha256': sha256(p)})
        entry = {'id': mid, 'role': role, 'params': params, 'files': files, 'license': LICENSE,
                 'trained_on': text.CORPUS_SOURCE if mid == 'tiny-base' else f'tiny-base samples labelled by the {attr} oracle (prefs-{attr}-train)',
                 'loader': 'AutoModel' if role == 'sequence_rm' else 'AutoModelForCausalLM', 'dtype': 'fp32',
                 'context_length': B.ARCH['ctx'], 'metrics': e}
        if attr:
            entry['attribute'] = attr
            entry['attribute_description'] = ATTR_TEXT[attr]
        if role == 'tuned':
            entry['reference'] = 'tiny-base'
            entry['beta'] = B.DPO['beta']
        if role == 'arm':
            entry['beta_r'] = B.ARM['beta_r']
        if mid == 'tiny-base':
            entry['also'] = ['reference']
        manifest['models'].append(entry)
        B.log(f'export {mid}: {params} params')
    ddir = os.path.join(MODELS, 'datasets')
    os.makedirs(ddir, exist_ok=True)
    for attr in B.ATTRS:
        src = B.path(f'prefs-{attr}-test.jsonl')
        dst = os.path.join(ddir, f'prefs-{attr}-test.jsonl')
        shutil.copy(src, dst)
        n = sum(1 for _ in open(dst, encoding='utf-8'))
        manifest['datasets'].append({'id': f'prefs-{attr}-test', 'path': f'datasets/prefs-{attr}-test.jsonl',
                                     'format': 'trl', 'attribute': attr, 'pairs': n, 'bytes': os.path.getsize(dst),
                                     'sha256': sha256(dst), 'license': LICENSE,
                                     'description': f'Held-out pairs of tiny-base continuations labelled by one Bradley-Terry draw on the {attr} oracle; alpha = P(chosen preferred).'})
    write_json(os.path.join(MODELS, 'manifest.json'), manifest)
    fixtures(tok, loaded, ev)
