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
  readonly contextLength = 64;
  readonly live = new Set<TableCache>();
  calls = 0;
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
    const length = Math.max(...batch.map((r) => r.length));
    return { logits: batch.map((r) => this.logitsFor(r)), cache: new TableCache(batch.map((r) => [...r]), length, this.live) };
  }
  async step(cache: KvCache, next: Int32Array): Promise<StepResult> {
    this.calls++;
    const c = cache as TableCache;
    if (c.disposed) throw new Error('step on a disposed cache');
    const seqs = c.seqs.map((s, i) => [...s, next[i] as number]);
    c.dispose();
    return { logits: seqs.map((s) => this.logitsFor(s)), cache: new TableCache(seqs, c.length + 1, this.live) };
  }
  async score(batch: readonly (readonly number[])[], from: readonly number[]): Promise<Float32Array[]> {
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
