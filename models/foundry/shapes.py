"""Realistic-shape benchmark models: random weights, real sizes, built on demand (never committed).

    /usr/bin/python3 models/foundry/shapes.py gpt2-small          # -> bench/shapes/gpt2-small/
    /usr/bin/python3 models/foundry/shapes.py --list
    /usr/bin/python3 models/foundry/shapes.py NAME --out DIR      # another folder

The bundled models have 1.35M parameters, where onnxruntime's per-call overhead dominates and a
strategy's overhead over the forward pass says little about real use. These folders have the shapes
of real hub models (GPT-2 small: 124M parameters, 50,257 vocabulary; SmolLM2-135M: a 30-layer
Llama with grouped-query attention, 49,152 vocabulary) and of wide vocabularies (50k, 152k) for the
memory bench, with the Hugging Face / Optimum folder layout and ONNX interface (position_ids, KV
cache), so `decoding-lab bench --shape NAME` and the memory bench load them like any model folder.

Weights are random (deterministic seed per shape): speed and memory depend on the shape, not the
weights. The tokenizer is the bundled models' (4,096 tokens); config.json's vocabulary is the
shape's, so the logits have the real width and ids past the tokenizer are simply never typed.
The folder holds `shape.json` (name, recipe version, parameter count); a folder whose recipe
version matches is reused, so building is a one-time cost (about a minute per 100M parameters).
"""
import argparse
import json
import os
import shutil
import sys
import time

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from gpt import GPT  # noqa: E402
from decoder_export import export_decoder  # noqa: E402
from llama import Llama, export_llama, llama_config  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(ROOT, 'bench', 'shapes')
TOKENIZER = os.path.join(ROOT, 'models', 'tiny-base')
EOS = 4095
RECIPE = 2

# name -> (architecture, arguments, seed, what it stands for)
SHAPES = {
    'gpt2-small': ('gpt2', dict(vocab=50257, d=768, layers=12, heads=12, ctx=1024), 1, 'GPT-2 small (124M)'),
    'gpt2-small-arm': ('gpt2', dict(vocab=50257, d=768, layers=12, heads=12, ctx=1024), 2, 'GPT-2 small, second seed (the ARM)'),
    'smollm2-135m': ('llama', dict(vocab=49152, d=576, layers=30, heads=9, kv_heads=3, inter=1536, ctx=2048, theta=100000.0), 1,
                     'SmolLM2-135M (Llama, GQA 9/3)'),
    'smollm2-135m-arm': ('llama', dict(vocab=49152, d=576, layers=30, heads=9, kv_heads=3, inter=1536, ctx=2048, theta=100000.0), 2,
                         'SmolLM2-135M, second seed (the ARM)'),
    'vocab50k': ('gpt2', dict(vocab=50257, d=256, layers=4, heads=4, ctx=512), 1, 'small GPT-2 graph, 50,257 vocabulary (memory)'),
    'vocab152k': ('gpt2', dict(vocab=151936, d=256, layers=4, heads=4, ctx=512), 1, 'small GPT-2 graph, 151,936 vocabulary (Qwen2.5; memory)'),
}


def write_json(path, obj):
    with open(path, 'w', encoding='utf-8') as fh:
        json.dump(obj, fh, indent=2)
        fh.write('\n')


def gpt2_config(a):
    return {'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2', 'vocab_size': a['vocab'],
            'n_positions': a['ctx'], 'n_ctx': a['ctx'], 'n_embd': a['d'], 'n_layer': a['layers'], 'n_head': a['heads'],
            'activation_function': 'gelu_new', 'layer_norm_epsilon': 1e-5, 'tie_word_embeddings': True,
            'bos_token_id': EOS, 'eos_token_id': EOS}


def build(name, out):
    arch, args, seed, what = SHAPES[name]
    meta_path = os.path.join(out, 'shape.json')
    if os.path.exists(meta_path) and os.path.exists(os.path.join(out, 'onnx', 'model.onnx')):
        with open(meta_path, encoding='utf-8') as fh:
            if json.load(fh).get('recipe') == RECIPE:
                return out
    t0 = time.time()
    tmp = f'{out}.building-{os.getpid()}'
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, 'onnx'))
    torch.manual_seed(seed)
    if arch == 'gpt2':
        model = GPT(args['vocab'], d=args['d'], layers=args['layers'], heads=args['heads'], ctx=args['ctx']).eval()
        with torch.no_grad():
            export_decoder(model, os.path.join(tmp, 'onnx', 'model.onnx'), args['vocab'])
        config = gpt2_config(args)
    else:
        model = Llama(**args).eval()
        export_llama(model, os.path.join(tmp, 'onnx', 'model.onnx'))
        config = llama_config(model, EOS, EOS)
    params = sum(p.numel() for p in model.parameters())
    write_json(os.path.join(tmp, 'config.json'), config)
    write_json(os.path.join(tmp, 'generation_config.json'), {'bos_token_id': EOS, 'eos_token_id': EOS})
    for f in ('tokenizer.json', 'tokenizer_config.json'):
        shutil.copy(os.path.join(TOKENIZER, f), os.path.join(tmp, f))
    write_json(os.path.join(tmp, 'shape.json'), {'name': name, 'recipe': RECIPE, 'architecture': arch, 'what': what,
                                                 'params': params, 'vocab': args['vocab'], 'seed': seed,
                                                 'build_seconds': round(time.time() - t0, 1)})
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


def main():
    ap = argparse.ArgumentParser(description='Build a realistic-shape benchmark model folder.')
    ap.add_argument('name', nargs='?', help='one of: ' + ', '.join(SHAPES))
    ap.add_argument('--out', help='folder to write (default bench/shapes/NAME)')
    ap.add_argument('--list', action='store_true', help='list the shapes and exit')
    a = ap.parse_args()
    if a.list or not a.name:
        for n, (arch, args, _, what) in SHAPES.items():
            print(f'{n}\t{arch}\tvocab {args["vocab"]}\t{what}')
        return 0 if a.list else 2
    if a.name not in SHAPES:
        print(f'shapes.py: unknown shape "{a.name}"; choose one of: {", ".join(SHAPES)}', file=sys.stderr)
        return 2
    out = os.path.abspath(a.out or os.path.join(CACHE, a.name))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    print(build(a.name, out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
