"""Byte-level BPE (GPT-2 style), trained here and written as a Hugging Face `tokenizer.json`.

The pre-tokenizer regex and byte-to-unicode table are GPT-2's, which is what the `ByteLevel`
pre-tokenizer with `use_regex: true` applies in `tokenizers` and in transformers.js. Encoding merges
the lowest-ranked adjacent pair until none is left, exactly as the BPE model does.
"""
import collections
import json

import regex

PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
EOS = '<|endoftext|>'


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('\u00a1'), ord('\u00ac') + 1)) + list(range(ord('\u00ae'), ord('\u00ff') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


B2U = bytes_to_unicode()


def pretokenize(text):
    return [''.join(B2U[b] for b in piece.encode('utf-8')) for piece in PAT.findall(text)]


def train(texts, vocab_size):
    """Most-frequent-pair merges with incremental pair counts; ties broken by the pair itself."""
    word_freq = collections.Counter()
    for t in texts:
        word_freq.update(pretokenize(t))
    words = [list(w) for w in word_freq]
    freqs = [word_freq[w] for w in word_freq]
    alphabet = sorted(set(B2U.values()))
    vocab = {c: i for i, c in enumerate(alphabet)}
    n_merges = vocab_size - len(vocab) - 1  # one id left for EOS
    pairs = collections.Counter()
    where = collections.defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pairs[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    merges = []
    for _ in range(n_merges):
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        a, b = best
        merged = a + b
        merges.append(best)
        vocab[merged] = len(vocab)
        for i in list(where[best]):
            w = words[i]
            f = freqs[i]
            for x, y in zip(w, w[1:]):
                pairs[(x, y)] -= f
                if pairs[(x, y)] <= 0:
                    del pairs[(x, y)]
                where[(x, y)].discard(i)
            j, nw = 0, []
            while j < len(w):
                if j < len(w) - 1 and w[j] == a and w[j + 1] == b:
                    nw.append(merged)
                    j += 2
                else:
                    nw.append(w[j])
                    j += 1
            words[i] = nw
            for x, y in zip(nw, nw[1:]):
                pairs[(x, y)] += f
                where[(x, y)].add(i)
        where.pop(best, None)
    vocab[EOS] = len(vocab)
    return vocab, merges


class Tokenizer:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.merges = merges
        self.eos_id = vocab[EOS]
        self.u2b = {u: b for b, u in B2U.items()}
        self.cache = {}

    def _bpe(self, piece):
        hit = self.cache.get(piece)
        if hit is not None:
            return hit
        w = list(piece)
        while len(w) > 1:
            best, best_rank = None, None
            for k in range(len(w) - 1):
                r = self.ranks.get((w[k], w[k + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = k, r
            if best is None:
                break
            a, b = w[best], w[best + 1]
            nw, j = [], 0
            while j < len(w):
                if j < len(w) - 1 and w[j] == a and w[j + 1] == b:
                    nw.append(a + b)
                    j += 2
                else:
                    nw.append(w[j])
                    j += 1
            w = nw
        ids = [self.vocab[t] for t in w]
        self.cache[piece] = ids
        return ids

    def encode(self, text):
        out = []
        for piece in pretokenize(text):
            out.extend(self._bpe(piece))
        return out

    def decode(self, ids):
        data = bytearray()
        for i in ids:
            if i == self.eos_id:
                continue
            data.extend(self.u2b[c] for c in self.inv[i])
        return data.decode('utf-8', errors='replace')

    def to_hf_json(self):
        return {
            'version': '1.0',
            'truncation': None,
            'padding': None,
            'added_tokens': [{'id': self.eos_id, 'content': EOS, 'single_word': False, 'lstrip': False,
                              'rstrip': False, 'normalized': True, 'special': True}],
            'normalizer': None,
            'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
            'post_processor': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
            'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
            'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': '',
                      'end_of_word_suffix': '', 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                      'vocab': self.vocab, 'merges': [list(m) for m in self.merges]},
        }

    @staticmethod
    def from_hf_json(path):
        with open(path, encoding='utf-8') as fh:
            j = json.load(fh)
        return Tokenizer(j['model']['vocab'], [tuple(m) for m in j['model']['merges']])
