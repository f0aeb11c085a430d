/**
 * Gathers rows (axis 0) of WebGPU-resident ORT tensors without a round trip through the CPU:
 * one command encoder copies every row of every tensor into fresh buffers on ORT's own device
 * (research/browser.md §1.6, route B). The KV layout [batch, heads, seq, head_dim] is batch-major,
 * so a row is one contiguous byte range.
 */
import { env } from '@huggingface/transformers';

/** The parts of a transformers.js Tensor / ORT tensor this module touches. */
export interface GpuTensorLike {
  readonly dims: readonly number[];
  readonly type: string;
  readonly ort_tensor: {
    readonly gpuBuffer: GPUBufferLike;
    constructor: { fromGpuBuffer(buffer: GPUBufferLike, opts: { dataType: string; dims: readonly number[]; dispose?: () => void }): unknown };
  };
}
interface GPUBufferLike {
  destroy(): void;
}
interface GPUDeviceLike {
  createBuffer(d: { size: number; usage: number }): GPUBufferLike;
  createCommandEncoder(): { copyBufferToBuffer(a: GPUBufferLike, ao: number, b: GPUBufferLike, bo: number, n: number): void; finish(): unknown };
  queue: { submit(c: unknown[]): void };
}

const BYTES: Record<string, number> = { float32: 4, float16: 2 };
// GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST (constants, so this module also loads where WebGPU is absent)
const USAGE = 0x80 | 0x04 | 0x08;

async function ortDevice(): Promise<GPUDeviceLike> {
  const webgpu = (env.backends.onnx as unknown as { webgpu?: { device?: Promise<GPUDeviceLike> | GPUDeviceLike } }).webgpu;
  const device = await webgpu?.device;
  if (!device) throw new Error('WebGPU cache gather: onnxruntime-web has no WebGPU device yet');
  return device;
}

/** Returns new ORT GPU tensors (caller owns them); the inputs are left untouched. */
export async function gatherRowsGpu(tensors: readonly GpuTensorLike[], rows: Int32Array): Promise<unknown[]> {
  const device = await ortDevice();
  const enc = device.createCommandEncoder();
  const out: unknown[] = [];
  for (const t of tensors) {
    const bytes = BYTES[t.type];
    if (!bytes) throw new Error(`WebGPU cache gather: unsupported dtype ${t.type}`);
    const rowBytes = (t.dims.slice(1).reduce((a, b) => a * b, 1) as number) * bytes;
    if (rowBytes % 4 !== 0) throw new Error(`WebGPU cache gather: a row of ${rowBytes} bytes is not 4-byte aligned`);
    const size = Math.max(4, rows.length * rowBytes);
    const dst = device.createBuffer({ size: Math.ceil(size / 16) * 16, usage: USAGE });
    rows.forEach((r, i) => {
      if (rowBytes > 0) enc.copyBufferToBuffer(t.ort_tensor.gpuBuffer, r * rowBytes, dst, i * rowBytes, rowBytes);
    });
    const Ort = t.ort_tensor.constructor;
    out.push(Ort.fromGpuBuffer(dst, { dataType: t.type, dims: [rows.length, ...t.dims.slice(1)], dispose: () => dst.destroy() }));
  }
  device.queue.submit([enc.finish()]);
  return out;
}
