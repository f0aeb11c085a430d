import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { halfBitsToNumber, halfToFloat32, isHalfBits, toFloat32 } from '../../src/core/math/half.ts';

/** Reference decode, written independently from the IEEE 754 definition with string parsing of the fields. */
function reference(h: number): number {
  const s = h.toString(2).padStart(16, '0');
  const sign = s[0] === '1' ? -1 : 1;
  const e = parseInt(s.slice(1, 6), 2);
  const m = parseInt(s.slice(6), 2);
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * Math.pow(2, -14) * (m / 1024);
  return sign * Math.pow(2, e - 15) * (1 + m / 1024);
}

describe('half → float32', () => {
  it('decodes all 65,536 bit patterns exactly (normals, subnormals, ±0, ±Inf, NaN)', () => {
    const all = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) all[i] = i;
    const got = halfToFloat32(all);
    let nan = 0;
    for (let h = 0; h < 65536; h++) {
      const want = reference(h);
      if (Number.isNaN(want)) nan++;
      // Object.is tells -0 from +0 and NaN equals NaN.
      if (!Object.is(got[h], want)) throw new Error(`bits 0x${h.toString(16)}: got ${got[h]}, want ${want}`);
      if (!Object.is(halfBitsToNumber(h), want)) throw new Error(`halfBitsToNumber 0x${h.toString(16)}: got ${halfBitsToNumber(h)}, want ${want}`);
    }
    expect(nan).toBe(2 * 1023);
  });

  it('known values', () => {
    const v = halfToFloat32(Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x8000, 0x7c00, 0xfc00, 0x3555]));
    expect([...v]).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, -0, Infinity, -Infinity, 0.333251953125]);
    expect(Object.is(v[6], -0)).toBe(true);
  });

  it('agrees with Float16Array where the runtime has one', () => {
    const F16 = (globalThis as { Float16Array?: new (b: ArrayBuffer) => ArrayLike<number> }).Float16Array;
    if (!F16) return; // Node 20: none (the reason this module exists)
    const all = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) all[i] = i;
    const f = new F16(all.buffer);
    const got = halfToFloat32(all);
    for (let h = 0; h < 65536; h++) expect(Object.is(got[h], f[h]) || (Number.isNaN(got[h]) && Number.isNaN(f[h] as number))).toBe(true);
  });

  it('round-trips every float32 that a half represents (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), (h) => {
        const x = reference(h);
        fc.pre(!Number.isNaN(x));
        expect(Math.fround(x)).toBe(x); // every half is exactly a float32
        expect(Object.is(halfToFloat32(Uint16Array.of(h))[0], x)).toBe(true);
      }),
    );
  });

  it('toFloat32: raw half bits (Node), float32 views, slices and out buffers', () => {
    const bits = Uint16Array.from([0x3c00, 0x4000, 0x4200, 0xbc00]);
    const t16 = { type: 'float16', data: bits };
    expect(isHalfBits(t16)).toBe(true);
    expect([...toFloat32(t16)]).toEqual([1, 2, 3, -1]);
    expect([...toFloat32(t16, 1, 2)]).toEqual([2, 3]);
    const out = new Float32Array(2);
    expect(toFloat32(t16, 2, 2, out)).toBe(out);
    expect([...out]).toEqual([3, -1]);
    // The bug this guards against: reading the bits as numbers gives 15360 for 1.0.
    expect(bits[0]).toBe(15360);
    const f = Float32Array.from([1, 2, 3]);
    const t32 = { type: 'float32', data: f };
    expect(isHalfBits(t32)).toBe(false);
    expect(toFloat32(t32)).toBe(f);
    expect(toFloat32(t32, 0, 3, undefined, true)).not.toBe(f);
    expect([...toFloat32(t32, 1, 2)]).toEqual([2, 3]);
    // A widened Float16Array-like (numbers already) passes through.
    expect([...toFloat32({ type: 'float16', data: [0.5, -0.25] })]).toEqual([0.5, -0.25]);
    expect(() => toFloat32({ type: 'int64', data: new BigInt64Array(2) })).toThrow(/float32 or float16/);
  });
});
