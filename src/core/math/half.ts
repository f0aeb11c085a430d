/**
 * IEEE 754 binary16 ("half", float16) → float32, for fp16 model outputs.
 *
 * Node 20 has no `Float16Array`: onnxruntime-node and transformers.js hand a float16 tensor over as a
 * `Uint16Array` of raw half bits. Reading those bits as numbers gives values like 15360 for 1.0, so
 * every float16 output must go through `toFloat32` before it is used. Where `Float16Array` exists
 * (Chromium 135+), tensors carry one and `toFloat32` simply widens it.
 *
 * The conversion is a table lookup (65,536 float32 entries, 256 KB, built on first use): exact for
 * every bit pattern — normals, subnormals, ±0, ±Infinity and NaN (a NaN stays NaN) — and about as
 * fast as a copy.
 */

let table: Float32Array | null = null;

/** The float32 value of one half-float bit pattern, decoded bit by bit (no table). */
export function halfBitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // ±0 and subnormals: frac · 2^-24
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25); // (1 + frac/1024) · 2^(exp-15)
}

function halfTable(): Float32Array {
  if (table) return table;
  const t = new Float32Array(65536);
  // Written through the float32 bit pattern so that NaN payloads and -0 are exact.
  const bits = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0x1f) bits[h] = sign | 0x7f800000 | (frac << 13);
    else if (exp !== 0) bits[h] = sign | ((exp + 112) << 23) | (frac << 13);
    else if (frac === 0) bits[h] = sign;
    else t[h] = (h & 0x8000 ? -frac : frac) * 2 ** -24; // subnormal half = normal float32, exact
  }
  return (table = t);
}

/** Decodes raw half bits into float32; `out` (length ≥ n) is reused when given. */
export function halfToFloat32(bits: Uint16Array, out?: Float32Array, from = 0, n = bits.length - from): Float32Array {
  const t = halfTable();
  const dst = out ?? new Float32Array(n);
  if (dst.length < n) throw new RangeError(`halfToFloat32: output holds ${dst.length} values, needs ${n}`);
  for (let i = 0; i < n; i++) dst[i] = t[bits[from + i] as number] as number;
  return dst;
}

/** A tensor's type and data as transformers.js / onnxruntime hand them over. */
export interface TensorData {
  readonly type: string;
  readonly data: { readonly length: number };
}

/** True when `data` holds raw half bits (a float16 tensor where `Float16Array` is missing). */
export function isHalfBits(t: TensorData): boolean {
  return t.type === 'float16' && t.data instanceof Uint16Array;
}

/**
 * Float32 values of `n` elements from `from` of a float32 or float16 tensor. A float32 tensor's own
 * buffer is returned as a view (no copy) when the whole of it is asked for and `copy` is false;
 * anything else is a new array (or `out`).
 */
export function toFloat32(t: TensorData, from = 0, n = t.data.length - from, out?: Float32Array, copy = false): Float32Array {
  const d = t.data;
  if (t.type === 'float32' && d instanceof Float32Array) {
    if (!copy && !out && from === 0 && n === d.length) return d;
    if (out) {
      out.set(d.subarray(from, from + n));
      return out;
    }
    return d.slice(from, from + n);
  }
  if (t.type === 'float16') {
    if (d instanceof Uint16Array) return halfToFloat32(d, out, from, n);
    // Float16Array (or any array of numbers): widen.
    const dst = out ?? new Float32Array(n);
    for (let i = 0; i < n; i++) dst[i] = (d as ArrayLike<number>)[from + i] as number;
    return dst;
  }
  if (t.type === 'float64' || d instanceof Float64Array) {
    const dst = out ?? new Float32Array(n);
    for (let i = 0; i < n; i++) dst[i] = (d as ArrayLike<number>)[from + i] as number;
    return dst;
  }
  throw new TypeError(`expected a float32 or float16 tensor, got ${t.type}`);
}
