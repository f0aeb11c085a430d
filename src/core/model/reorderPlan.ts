/**
 * Reordering KV-cache rows for beam search without moving rows that can stay where they are.
 *
 * A backend keeps a cache's rows in physical slots and a map `order` (logical row i lives in slot
 * `order[i]`; null = identity). To select `parents` (logical row i of the result is logical row
 * `parents[i]` of the source), the first child of each parent takes over the parent's slot (no copy)
 * and every further child of the same parent gets one of the slots nobody claimed (one row copy).
 * So a step copies `rows − (distinct parents)` rows: none for a pure permutation (beams that only
 * change rank), where a plain gather copies every row of every layer each step. A copy never
 * overwrites a slot that is read: sources are claimed slots, destinations unclaimed ones.
 * Pure: no ORT, no DOM (the transformers.js adapter applies the plan to its tensors).
 */

export interface ReorderPlan {
  /** The result's map: logical row i lives in slot order[i]; null when that is the identity. */
  readonly order: Int32Array | null;
  /** Slot copies to make before using the result: pairs (from, to), flattened: [from0, to0, from1, to1, …]. */
  readonly copies: Int32Array;
}

/**
 * Plans selecting `parents` (logical rows of the source, each in 0..rows-1) on a cache of `rows`
 * slots whose map is `order` (null: identity). `parents.length` must equal `rows` (the slots are
 * reused; a batch that shrinks needs a real gather).
 */
export function planReorder(order: Int32Array | null, parents: Int32Array, rows: number): ReorderPlan {
  if (parents.length !== rows) throw new RangeError(`planReorder: ${parents.length} parents for ${rows} rows; an in-place reorder keeps the row count`);
  if (order && order.length !== rows) throw new RangeError(`planReorder: order has ${order.length} entries for ${rows} rows`);
  const slot = (i: number) => (order ? (order[i] as number) : i);
  const claimed = new Uint8Array(rows);
  const next = new Int32Array(rows).fill(-1);
  for (let i = 0; i < rows; i++) {
    const p = parents[i] as number;
    if (!(p >= 0 && p < rows && Number.isInteger(p))) throw new RangeError(`cache row ${p} out of range 0..${rows - 1}`);
    const s = slot(p);
    if (!claimed[s]) {
      claimed[s] = 1;
      next[i] = s;
    }
  }
  const copies: number[] = [];
  let free = 0;
  for (let i = 0; i < rows; i++) {
    if (next[i] !== -1) continue;
    while (claimed[free]) free++;
    claimed[free] = 1;
    copies.push(slot(parents[i] as number), free);
    next[i] = free;
  }
  let identity = true;
  for (let i = 0; i < rows && identity; i++) if (next[i] !== i) identity = false;
  return { order: identity ? null : next, copies: Int32Array.from(copies) };
}

/** Applies a plan's copies to a [rows, rowSize] buffer in place (any typed array: float32, raw float16 bits, int8 …). */
export function applyCopies(data: { copyWithin(target: number, start: number, end: number): unknown }, rowSize: number, copies: Int32Array): void {
  for (let k = 0; k < copies.length; k += 2) {
    const from = copies[k] as number;
    data.copyWithin((copies[k + 1] as number) * rowSize, from * rowSize, (from + 1) * rowSize);
  }
}
