export interface TopEntry {
  readonly tokenId: number;
  readonly value: number;
}

/**
 * The k largest entries of x, largest first; ties keep the lower index first; NaN is skipped.
 * Insertion into a sorted buffer of size k: O(n·k) worst case, O(n) typical for small k.
 */
export function topK(x: ArrayLike<number>, k: number): TopEntry[] {
  const n = Math.min(Math.max(0, Math.floor(k)), x.length);
  if (n === 0) return [];
  const ids = new Array<number>(n);
  const vals = new Array<number>(n);
  let len = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (Number.isNaN(v) || n === 0) continue;
    if (len === n && v <= (vals[n - 1] as number)) continue;
    if (len < n) len++;
    let pos = len - 1;
    while (pos > 0 && (vals[pos - 1] as number) < v) {
      vals[pos] = vals[pos - 1] as number;
      ids[pos] = ids[pos - 1] as number;
      pos--;
    }
    vals[pos] = v;
    ids[pos] = i;
  }
  const out: TopEntry[] = [];
  for (let i = 0; i < len; i++) out.push({ tokenId: ids[i] as number, value: vals[i] as number });
  return out;
}
