/**
 * A seeded, forkable random number generator: xoshiro128** seeded through splitmix32. Pure 32-bit
 * integer arithmetic (Math.imul, >>> 0), so the same seed gives the same draws in Node and every
 * browser. `fork(stream)` derives an independent generator, e.g. one per sampled row, so a row's
 * draws do not depend on how many other rows run beside it.
 */
function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) >>> 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [state, (z ^ (z >>> 16)) >>> 0];
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed any integer (taken modulo 2^32) */
  constructor(readonly seed: number) {
    let st = seed >>> 0;
    const out: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [ns, v] = splitmix32(st);
      st = ns;
      out.push(v);
    }
    [this.s0, this.s1, this.s2, this.s3] = out as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An independent generator for a numbered stream (same seed + stream → same draws). */
  fork(stream: number): Rng {
    const [, a] = splitmix32((this.seed ^ Math.imul(stream + 1, 0x632be5ab)) >>> 0);
    const [, b] = splitmix32((a + stream) >>> 0);
    return new Rng((a ^ rotl(b, 13)) >>> 0);
  }
}
