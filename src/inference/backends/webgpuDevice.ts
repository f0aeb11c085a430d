/**
 * ORT's WebGPU device, for the worker: its `lost` promise (a driver reset, a GPU process crash,
 * or `destroy()`), and a way to simulate a loss. onnxruntime-web sets `env.webgpu.device` (the
 * GPUDevice, or in older builds a promise of it) when its first WebGPU session is created; before
 * that there is no device to watch.
 */
import { env } from '@huggingface/transformers';

interface LostInfo {
  readonly reason?: string;
  readonly message?: string;
}
interface DeviceLike {
  readonly lost: Promise<LostInfo>;
  destroy(): void;
}

function currentDevice(): Promise<DeviceLike> | DeviceLike | undefined {
  try {
    return (env.backends.onnx as unknown as { webgpu?: { device?: Promise<DeviceLike> | DeviceLike } }).webgpu?.device;
  } catch {
    return undefined;
  }
}

/** "destroyed: Device was destroyed." — what the user reads in parentheses. */
export function describeLoss(info: LostInfo | undefined): string {
  const reason = info?.reason && info.reason !== 'unknown' ? info.reason : '';
  const message = (info?.message ?? '').trim();
  return [reason, message].filter(Boolean).join(': ') || 'unknown reason';
}

let watched: { device: unknown; lost: Promise<string> } | null = null;

/** Resolves with the reason when ORT's WebGPU device is lost; undefined while ORT has none. */
export function webgpuDeviceLost(): Promise<string> | undefined {
  const device = currentDevice();
  if (!device) return undefined;
  if (watched?.device !== device) watched = { device, lost: Promise.resolve(device).then((d) => d.lost).then(describeLoss) };
  return watched.lost;
}

/** Destroys ORT's WebGPU device (the `lose-device` debug action), as a driver reset would. */
export async function loseWebgpuDevice(): Promise<string> {
  const device = await currentDevice();
  if (!device) throw new Error('There is no WebGPU device to lose: the lab runs on WASM, or no model was loaded on WebGPU yet.');
  device.destroy();
  return 'destroyed';
}
