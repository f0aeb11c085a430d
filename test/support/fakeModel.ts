/**
 * A hand-computable language model for core tests: the next-token logits depend only on the last
 * token, through a fixed table. Implements the full LanguageModel/KvCache contract on plain arrays.
 */
import type { KvCache, LanguageModel, StepResult, Tokenizer } from '../../src/core/model/types.ts';

class TableCache implements KvCache {
  disposed = false;
  constructor(
    readonly seqs: number[][],
    readonly length: number,
    readonly live: Set<TableCache>,
  ) {
    live.add(this);
  }
  get rows(): number {
    return this.seqs.length;
  }
  async select(rows: Int32Array): Promise<KvCache> {
    if (this.disposed) throw new Error('select after dispose');
    return new TableCache(Array.from(rows, (r) => [...(this.seqs[r] as number[])]), this.length, this.live);
  }
  dispose(): void {
    this.disposed = true;
    this.live.delete(this);
  }
}

export class TableModel implements LanguageModel {
  readonly vocabSize: number;
  /** Settable so tests can exercise truncation. */
  contextLength = 64;
  readonly live = new Set<TableCache>();
  calls = 0;
  /** Forward passes by kind (prefill, step, extend, score), for tests of prompt sharing. */
  readonly passes = { prefill: 0, step: 0, extend: 0, score: 0 };
  constructor(
    /** table[last] = logits of the next token */
    readonly table: number[][],
    readonly eosTokenIds: readonly number[] = [0],
    readonly id = 'table',
  ) {
    this.vocabSize = (table[0] as number[]).length;
  }
  private logitsFor(seq: readonly number[]): Float32Array {
    return Float32Array.from(this.table[seq[seq.length - 1] as number] as number[]);
  }
  async prefill(batch: readonly (readonly number[])[]): Promise<StepResult> {
    this.calls++;
    this.passes.prefill++;
    const length = Math.max(...batch.map((r) => r.length));
    return { logits: batch.map((r) => this.logitsFor(r)), cache: new TableCache(batch.map((r) => [...r]), length, this.live) };
  }
  async step(cache: KvCache, next: Int32Array): Promise<StepResult> {
    this.calls++;
    this.passes.step++;
    const c = cache as TableCache;
    if (c.disposed) throw new Error('step on a disposed cache');
    const seqs = c.seqs.map((s, i) => [...s, next[i] as number]);
    c.dispose();
    return { logits: seqs.map((s) => this.logitsFor(s)), cache: new TableCache(seqs, c.length + 1, this.live) };
  }
  async score(batch: readonly (readonly number[])[], from: readonly number[]): Promise<Float32Array[]> {
    this.passes.score++;
    return this.logprobs(batch, from);
  }
  private logprobs(batch: readonly (readonly number[])[], from: readonly number[]): Float32Array[] {
    return batch.map((seq, b) => {
      const out: number[] = [];
      for (let t = from[b] as number; t < seq.length; t++) {
        const row = this.logitsFor(seq.slice(0, t));
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        out.push((row[seq[t] as number] as number) - lse);
      }
      return Float32Array.from(out);
    });
  }
  /** LanguageModel.extend: log p(cont[t] | cached row, cont[<t]) for t >= 1; the cache stays valid. */
  async extend(cache: KvCache, continuations: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const c = cache as TableCache;
    if (c.disposed) throw new Error('extend on a disposed cache');
    if (continuations.length !== c.rows) throw new Error(`extend got ${continuations.length} continuations for ${c.rows} cache rows`);
    this.passes.extend++;
    return this.logprobs(
      continuations.map((cont, i) => [...(c.seqs[i] as number[]), ...cont]),
      continuations.map((_, i) => (c.seqs[i] as number[]).length + 1),
    );
  }
  async dispose(): Promise<void> {}
}

/**
 * A language model whose next-token logits depend on the whole prefix (every token and its
 * position), so any mix-up of rows, prompts or offsets changes the scores. Plain arrays; the cache's
 * `length` is the longest cached row, as with a left-padded batch. With `maxPadded`, `extend`
 * refuses (throws) when cache length + longest continuation − 1 exceeds it, like a model export
 * with a fixed-size attention-mask buffer.
 */
export class PrefixModel implements LanguageModel {
  readonly live = new Set<TableCache>();
  readonly passes = { prefill: 0, step: 0, extend: 0, score: 0, refused: 0 };
  readonly eosTokenIds: readonly number[] = [0];
  constructor(
    readonly vocabSize: number,
    public contextLength = 64,
    readonly id = 'prefix',
    readonly maxPadded = Infinity,
  ) {}
  logitsFor(seq: readonly number[]): Float32Array {
    let h = 0.123;
    seq.forEach((t, i) => (h = (h * 1.618 + (t + 1) * 0.731 + i * 0.059) % 97));
    return Float32Array.from({ length: this.vocabSize }, (_, v) => 3 * Math.sin(h * (v + 1) * 0.37 + v));
  }
  private lp(seq: readonly number[], t: number): number {
    const row = this.logitsFor(seq.slice(0, t));
    const m = Math.max(...row);
    return (row[seq[t] as number] as number) - m - Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  }
  async prefill(batch: readonly (readonly number[])[]): Promise<StepResult> {
    this.passes.prefill++;
    return { logits: batch.map((r) => this.logitsFor(r)), cache: new TableCache(batch.map((r) => [...r]), Math.max(...batch.map((r) => r.length)), this.live) };
  }
  async step(cache: KvCache, next: Int32Array): Promise<StepResult> {
    this.passes.step++;
    const c = cache as TableCache;
    const seqs = c.seqs.map((s, i) => [...s, next[i] as number]);
    c.dispose();
    return { logits: seqs.map((s) => this.logitsFor(s)), cache: new TableCache(seqs, c.length + 1, this.live) };
  }
  async score(batch: readonly (readonly number[])[], from: readonly number[]): Promise<Float32Array[]> {
    this.passes.score++;
    for (const seq of batch) if (seq.length > this.contextLength) throw new RangeError(`sequence of ${seq.length} exceeds the context ${this.contextLength}`);
    return batch.map((seq, b) => Float32Array.from({ length: Math.max(0, seq.length - (from[b] as number)) }, (_, k) => this.lp(seq, (from[b] as number) + k)));
  }
  async extend(cache: KvCache, continuations: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const c = cache as TableCache;
    if (c.disposed) throw new Error('extend on a disposed cache');
    if (continuations.length !== c.rows) throw new Error(`extend got ${continuations.length} continuations for ${c.rows} cache rows`);
    const M = Math.max(0, ...continuations.map((x) => x.length - 1));
    if (c.length + M > this.maxPadded) {
      this.passes.refused++;
      throw new Error(`padded length ${c.length + M} exceeds ${this.maxPadded}`);
    }
    this.passes.extend++;
    return continuations.map((cont, i) => {
      const seq = [...(c.seqs[i] as number[]), ...cont];
      if (seq.length > this.contextLength) throw new RangeError(`row ${i} holds ${seq.length} tokens; the context is ${this.contextLength}`);
      const from = (c.seqs[i] as number[]).length + 1;
      return Float32Array.from({ length: Math.max(0, seq.length - from) }, (_, k) => this.lp(seq, from + k));
    });
  }
  async dispose(): Promise<void> {}
}

/** Token i is the letter 'a' + i; id 0 is EOS ('<eos>'). */
export const letterTokenizer = (vocab: number): Tokenizer => ({
  vocabSize: vocab,
  eosTokenId: 0,
  encode: (text) => Array.from(text, (ch) => ch.charCodeAt(0) - 96).filter((i) => i > 0 && i < vocab),
  decode: (ids) => ids.filter((i) => i !== 0).map((i) => String.fromCharCode(96 + i)).join(''),
  tokenText: (id) => (id === 0 ? '<eos>' : String.fromCharCode(96 + id)),
});
