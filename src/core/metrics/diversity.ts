/**
 * Diversity of a set of token sequences: distinct-n (Li et al. 2016), the share of unique n-grams
 * among all n-grams of all sequences.
 */
export function distinctN(seqs: readonly (readonly number[])[], n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1 (got ${n})`);
  const seen = new Set<string>();
  let total = 0;
  for (const s of seqs) {
    for (let i = 0; i + n <= s.length; i++) {
      seen.add(s.slice(i, i + n).join(','));
      total++;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}

/**
 * How little a set of sequences shares: |∪ Sᵢ| / Σ |Sᵢ| where Sᵢ is the set of n-grams of sequence i.
 * 1 when no n-gram appears in two sequences; 1/k when k sequences have identical n-gram sets.
 * Repetition inside one sequence does not count (unlike distinct-n over the concatenation).
 */
export function crossDistinctN(seqs: readonly (readonly number[])[], n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1 (got ${n})`);
  const union = new Set<string>();
  let total = 0;
  for (const s of seqs) {
    const own = new Set<string>();
    for (let i = 0; i + n <= s.length; i++) own.add(s.slice(i, i + n).join(','));
    total += own.size;
    for (const g of own) union.add(g);
  }
  return total === 0 ? 0 : union.size / total;
}
