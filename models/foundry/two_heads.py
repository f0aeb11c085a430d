"""Two-head reward model fixture: tiny-rm-positive and tiny-rm-concise merged into one ONNX graph.

Both graphs read the same inputs (input_ids, attention_mask); every other name is prefixed ("pos/",
"con/") and their [batch, 1] logits are concatenated into logits [batch, 2] with config.json
id2label {0: positivity, 1: conciseness}. The weights are the bundled models' own, so head i equals
that model's reward exactly. Deterministic: run again and the files are byte-identical.

    /usr/bin/python3 models/foundry/two_heads.py   # -> test/fixtures/hub/rm-two-heads/
"""
import json
import os
import shutil

import onnx
from onnx import helper, TensorProto

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, 'models')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'hub', 'rm-two-heads')
HEADS = [('pos/', 'tiny-rm-positive', 'positivity'), ('con/', 'tiny-rm-concise', 'conciseness')]
SHARED = ('input_ids', 'attention_mask')


def rename(g: onnx.GraphProto, prefix: str) -> None:
    """Prefixes every value and node name except the shared inputs, in subgraphs (If branches) too."""
    r = lambda n: n if n == '' or n in SHARED else prefix + n
    for vs in (g.input, g.output, g.value_info):
        for v in vs:
            v.name = r(v.name)
    for t in g.initializer:
        t.name = r(t.name)
    for node in g.node:
        node.name = prefix + node.name
        node.input[:] = [r(n) for n in node.input]
        node.output[:] = [r(n) for n in node.output]
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                rename(a.g, prefix)
            for sub in a.graphs:
                rename(sub, prefix)


def prefixed(prefix: str, model_id: str) -> onnx.ModelProto:
    m = onnx.load(os.path.join(MODELS, model_id, 'onnx', 'model.onnx'))
    rename(m.graph, prefix)
    return m


def main() -> None:
    graphs = [prefixed(p, mid) for p, mid, _ in HEADS]
    first = graphs[0]
    nodes, inits, vinfo = [], [], []
    for (prefix, _, _), g in zip(HEADS, graphs):
        nodes.extend(g.graph.node)
        inits.extend(g.graph.initializer)
        vinfo.extend(g.graph.value_info)
        assert [i.name for i in g.graph.input] == list(SHARED), [i.name for i in g.graph.input]
    heads = [p + 'logits' for p, _, _ in HEADS]
    nodes.append(helper.make_node('Concat', heads, ['logits'], axis=1, name='heads/concat'))
    out = helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch_size', len(HEADS)])
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ['batch_size', 'sequence_length']) for n in SHARED]
    graph = helper.make_graph(nodes, 'rm_two_heads', inputs, [out], initializer=inits, value_info=vinfo)
    model = helper.make_model(graph, opset_imports=list(first.opset_import), producer_name='decoding-lab foundry two_heads.py')
    model.ir_version = first.ir_version
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(OUT, 'onnx'), exist_ok=True)
    onnx.save(model, os.path.join(OUT, 'onnx', 'model.onnx'))
    src = os.path.join(MODELS, HEADS[0][1])
    for f in ('tokenizer.json', 'tokenizer_config.json', 'generation_config.json'):
        shutil.copyfile(os.path.join(src, f), os.path.join(OUT, f))
    with open(os.path.join(src, 'config.json')) as fh:
        config = json.load(fh)
    config['num_labels'] = len(HEADS)
    config['id2label'] = {str(i): name for i, (_, _, name) in enumerate(HEADS)}
    config['label2id'] = {name: i for i, (_, _, name) in enumerate(HEADS)}
    with open(os.path.join(OUT, 'config.json'), 'w') as fh:
        json.dump(config, fh, indent=2)
        fh.write('\n')
    with open(os.path.join(OUT, 'README.md'), 'w') as fh:
        fh.write('# rm-two-heads (test fixture)\n\nA reward model with two heads: logits [batch, 2] = '
                 '[tiny-rm-positive, tiny-rm-concise] (the bundled models merged into one graph, shared inputs). '
                 'Made by models/foundry/two_heads.py; choose the reward with --reward-label, e.g. '
                 '"positivity=1,conciseness=0.5".\n')


if __name__ == '__main__':
    main()
