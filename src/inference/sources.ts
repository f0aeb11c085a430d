/**
 * Where the worker's models come from, and the one gate every transformers.js file request passes
 * through (`env.fetch`, set in worker.ts):
 *
 * - **bundled** ids (`tiny-base`): files of this site under <base>models/, fetched as before.
 * - **local folders** (`local/<name>`): files the user picked (`<input webkitdirectory>`), handed to
 *   the worker as `File`s and answered here as `Response`s built from them. Nothing is uploaded:
 *   the request for `<base>models/local/<name>/<file>` never reaches the network.
 * - **Hugging Face ids** (`org/name`), registered when the user asks for one: the site is not asked
 *   for them (a local 404 is answered here), remote requests go to `<host><id>/resolve/<revision>/`.
 *
 * Any other cross-origin request is refused, so nothing leaves the origin unless the user loads a
 * model by id. transformers.js's remote switches are global (`env.allowRemoteModels`,
 * `env.useBrowserCache`, `env.remoteHost`), so loads run one at a time (`run`) and a Hugging Face
 * load turns them on for its own duration only.
 *
 * No worker globals here: the worker passes in its fetch, origin and transformers' `env`, so this
 * file runs unchanged in Node tests.
 */
import type { DownloadProgress, ModelKind, ModelSource, RegisteredModel } from './protocol.ts';
import { LAYOUT, ModelFolderError, looksLikeHtml } from './backends/modelErrors.ts';

/** The transformers.js `env` fields a Hugging Face load switches. */
export interface RemoteEnv {
  allowRemoteModels: boolean;
  useBrowserCache: boolean;
  remoteHost: string;
}

export type Origin = 'bundled' | 'local' | 'hub';

/** ONNX file name under onnx/ → transformers.js dtype (its DEFAULT_DTYPE_SUFFIX_MAPPING). */
const DTYPE_FILES: readonly (readonly [string, string])[] = [
  ['model.onnx', 'fp32'],
  ['model_fp16.onnx', 'fp16'],
  ['model_quantized.onnx', 'q8'],
  ['model_int8.onnx', 'int8'],
  ['model_uint8.onnx', 'uint8'],
  ['model_q4.onnx', 'q4'],
  ['model_q4f16.onnx', 'q4f16'],
  ['model_bnb4.onnx', 'bnb4'],
];

/** The dtypes whose ONNX file is present among `paths` (relative to the model folder). */
export function dtypesOf(paths: readonly string[]): string[] {
  const have = new Set(paths);
  return DTYPE_FILES.filter(([f]) => have.has(`onnx/${f}`)).map(([, d]) => d);
}

/** The ONNX file transformers.js reads for a dtype. */
export function onnxFileFor(dtype: string): string {
  const hit = DTYPE_FILES.find(([, d]) => d === dtype);
  return `onnx/${hit ? hit[0] : 'model.onnx'}`;
}

/** transformers.js's MAX_EXTERNAL_DATA_CHUNKS. */
const MAX_EXTERNAL_DATA = 100;

/** Same pattern transformers.js accepts as a Hub id (`org/name`, no `..` or `--`). */
const HUB_ID = /^[\w.-]{1,96}\/[\w.-]{1,96}$/;

/** Why `repo` is not a Hugging Face id we can load, or null when it is fine. */
export function hubIdProblem(repo: string): string | null {
  const r = repo.trim();
  if (!r) return 'Enter a Hugging Face model id of the form org/name (e.g. onnx-community/gpt2).';
  if (!HUB_ID.test(r) || r.includes('..') || r.includes('--') || /^[.-]|[.-]$|\/[.-]|[.-]\//.test(r))
    return `"${r}" is not a Hugging Face model id: use the form org/name (letters, digits, "-", "_", "."), e.g. onnx-community/gpt2.`;
  if (r.startsWith('local/')) return `"${r}": ids starting with local/ name folders picked from this computer; choose another id.`;
  return null;
}

/** The synthetic id a picked folder gets: `local/<name>` with the name made a valid id segment. */
export function localModelId(folderName: string): string {
  let s = folderName.normalize('NFKD').replace(/[^\w.-]+/g, '-').replace(/-{2,}/g, '-').replace(/\.{2,}/g, '.');
  s = s.replace(/^[.-]+|[.-]+$/g, '').slice(0, 96);
  return `local/${s || 'model'}`;
}

/** A causal LM or a sequence classifier (reward model), from config.json's architectures. */
export function kindOfConfig(config: { architectures?: unknown }): ModelKind {
  const arch = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  return arch.some((a) => /ForSequenceClassification$/.test(a)) ? 'sequence-classifier' : 'causal-lm';
}

/** Errors about a model's files share the adapter's ModelFolderError (backends/modelErrors.ts). */
const ModelSourceError = ModelFolderError;

/** Reads a small JSON file, refusing HTML pages and broken JSON with a message naming the file. */
export async function readJsonFile(where: string, blob: Blob): Promise<Record<string, unknown>> {
  const text = (await blob.text()).replace(/^\uFEFF/, '');
  const head = text.trimStart();
  if (looksLikeHtml(text)) {
    throw new ModelSourceError(
      `${where} is an HTML page, not JSON (it starts with ${JSON.stringify(head.slice(0, 15))}): it was saved from a web or error page. Download the real file (on Hugging Face, the file's "download" link, …/resolve/main/<file>) and pick the folder again.`,
    );
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SyntaxError('the top level is not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new ModelSourceError(`${where} is not valid JSON (${(e as Error).message}). Replace it with the model's own ${where.split('/').pop()}.`);
  }
}

/**
 * Checks that a file is a whole ONNX model (a protobuf ModelProto) without reading it into memory:
 * it walks the top-level fields, reading a few bytes at each, and checks that every declared length
 * fits in the file, that the walk ends exactly at its end, and that the model has an IR version and
 * a graph. A truncated download fails the length check; a text or HTML file fails the wire types.
 */
export async function checkOnnx(where: string, blob: Blob): Promise<void> {
  const size = blob.size;
  const notOnnx = async (why: string) => {
    const head = new TextDecoder().decode(await blob.slice(0, 24).arrayBuffer());
    const printable = /^[\x20-\x7e\s]+$/.test(head) ? ` (it starts with ${JSON.stringify(head.trim().slice(0, 20))})` : '';
    return new ModelSourceError(`${where} is not an ONNX model${printable}: ${why}. Export the model to ONNX (e.g. optimum-cli export onnx) and pick the folder again.`);
  };
  if (size === 0) throw new ModelSourceError(`${where} is empty (0 bytes): copy or download it again.`);
  let pos = 0;
  let fields = 0;
  const seen = new Set<number>();
  const varint = async (): Promise<number | null> => {
    const bytes = new Uint8Array(await blob.slice(pos, pos + 10).arrayBuffer());
    let v = 0;
    let mul = 1;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) {
        pos += i + 1;
        return v;
      }
    }
    return null;
  };
  while (pos < size) {
    const tag = await varint();
    if (tag === null) throw await notOnnx(`byte ${pos} does not start a protobuf field`);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0 || (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5)) throw await notOnnx(`byte ${pos} is not a protobuf field of a model`);
    let skip = 0;
    if (wire === 0) {
      if ((await varint()) === null) throw await notOnnx(`field ${field} has no value`);
    } else if (wire === 1) skip = 8;
    else if (wire === 5) skip = 4;
    else {
      const len = await varint();
      if (len === null) throw await notOnnx(`field ${field} has no length`);
      skip = len;
    }
    if (pos + skip > size) {
      if (fields === 0) throw await notOnnx(`its first field declares ${skip} bytes, more than the file holds`);
      throw new ModelSourceError(
        `${where} is truncated: it has ${size.toLocaleString('en')} bytes but its ${field === 7 ? 'graph' : `field ${field}`} needs ${(pos + skip).toLocaleString('en')}. The copy or download was cut short: get the file again.`,
      );
    }
    pos += skip;
    seen.add(field);
    fields++;
  }
  if (!seen.has(1) || !seen.has(7)) throw await notOnnx(`it has no ${!seen.has(1) ? 'IR version' : 'graph'}`);
}

interface Folder {
  readonly files: ReadonlyMap<string, Blob>;
}

interface Hub {
  readonly repo: string;
  readonly revision: string;
  readonly host: string;
}

type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

export class ModelSources {
  private readonly folders = new Map<string, Folder>();
  private readonly hubs = new Map<string, Hub>();
  private readonly dtypes = new Map<string, string>();
  private readonly sinks = new Map<string, (p: DownloadProgress) => void>();
  private chain: Promise<unknown> = Promise.resolve();
  /** Absolute URL of <base>models/. */
  private readonly modelsUrl: string;

  constructor(
    private readonly opts: {
      /** Page-relative or absolute URL of the bundled models folder (env.localModelPath). */
      readonly localModelPath: string;
      /** This worker's URL (resolves relative requests and tells same-origin from remote). */
      readonly location: string;
      /** The real fetch. */
      readonly fetch: Fetch;
      /** transformers.js's env, switched for Hugging Face loads. */
      readonly env: RemoteEnv;
      /** Whether the Cache API exists here (it keeps Hugging Face downloads). */
      readonly cacheApi: boolean;
    },
  ) {
    this.modelsUrl = new URL(opts.localModelPath, opts.location).href;
  }

  origin(id: string): Origin {
    return this.folders.has(id) ? 'local' : this.hubs.has(id) ? 'hub' : 'bundled';
  }

  /** How messages name where a model came from. */
  label(id: string): string {
    return { bundled: 'bundled', local: 'local folder', hub: `Hugging Face, ${this.hubs.get(id)?.host ?? ''}` }[this.origin(id)];
  }

  dtype(id: string): string {
    return this.dtypes.get(id) ?? 'fp32';
  }

  /** Sets the dtype the next load of `id` uses; true when it changed (the loaded copy is stale). */
  setDtype(id: string, dtype: string): boolean {
    const changed = this.dtype(id) !== dtype;
    this.dtypes.set(id, dtype);
    return changed;
  }

  /**
   * How many external-data files the ONNX file of `id`'s current dtype has (`onnx/model.onnx` →
   * `onnx/model.onnx_data`, `…_data_1`, …), 0 when none: onnxruntime-web cannot read them from
   * disk, so transformers.js must fetch them (its `use_external_data_format`) and mount them under
   * the name the graph records (`model.onnx_data`). Picked folders: from the file list. Hugging Face
   * ids: HEAD requests to the hub host. Bundled ids: not probed (the site's own models have none; one
   * that does says so in config.json's `transformers.js_config`, which transformers.js reads itself).
   */
  async externalDataFiles(id: string): Promise<number> {
    const base = onnxFileFor(this.dtype(id));
    const name = (i: number) => `${base}_data${i === 0 ? '' : `_${i}`}`;
    const folder = this.folders.get(id);
    let n = 0;
    if (folder) {
      while (n < MAX_EXTERNAL_DATA && folder.files.has(name(n))) n++;
      return n;
    }
    if (!this.hubs.has(id)) return 0;
    while (n < MAX_EXTERNAL_DATA) {
      try {
        const res = await this.opts.fetch(this.remoteUrl(id, name(n)), { method: 'HEAD' });
        if (!res.ok || (res.headers.get('content-type') ?? '').includes('text/html')) break;
      } catch {
        break;
      }
      n++;
    }
    return n;
  }

  /** Registers a picked folder or a Hugging Face id; checks what can be checked before loading. */
  async register(source: ModelSource): Promise<RegisteredModel> {
    return source.kind === 'folder' ? this.registerFolder(source) : this.registerHub(source);
  }

  private async registerFolder(source: Extract<ModelSource, { kind: 'folder' }>): Promise<RegisteredModel> {
    const id = localModelId(source.name);
    const files = new Map<string, Blob>();
    for (const { path, file } of source.files) {
      // webkitRelativePath is "<picked folder>/<path inside it>"; keep the part inside it.
      const parts = path.split('/').filter(Boolean);
      const rel = parts.length > 1 ? parts.slice(1).join('/') : (parts[0] ?? '');
      if (rel) files.set(rel, file);
    }
    const where = (f: string) => `${source.name}/${f}`;
    if (files.size === 0) throw new ModelSourceError(`The folder "${source.name}" is empty: ${LAYOUT}.`);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      if (!files.has(f)) {
        const nested = [...files.keys()].find((p) => p.endsWith(`/${f}`));
        const hint = nested ? ` It is in ${source.name}/${nested.slice(0, -f.length - 1)}/: pick that folder instead.` : ' Pick the folder that holds it.';
        throw new ModelSourceError(`The folder "${source.name}" has no ${f}: ${LAYOUT}.${hint}`);
      }
    }
    const paths = [...files.keys()];
    const dtypes = dtypesOf(paths);
    if (dtypes.length === 0) throw new ModelSourceError(`The folder "${source.name}" has no ONNX model (onnx/model.onnx): ${LAYOUT}. Export one with Optimum (optimum-cli export onnx).`);
    if (!dtypes.includes(source.dtype)) {
      throw new ModelSourceError(`The folder "${source.name}" has no ${onnxFileFor(source.dtype)} for dtype ${source.dtype}: choose one of ${dtypes.join(', ')}.`);
    }
    const config = await readJsonFile(where('config.json'), files.get('config.json') as Blob);
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
      const blob = files.get(f);
      if (blob) await readJsonFile(where(f), blob);
    }
    const onnx = onnxFileFor(source.dtype);
    await checkOnnx(where(onnx), files.get(onnx) as Blob);
    this.forgetId(id);
    this.folders.set(id, { files });
    this.dtypes.set(id, source.dtype);
    return {
      id,
      origin: 'local',
      kind: kindOfConfig(config),
      modelType: typeof config.model_type === 'string' ? config.model_type : null,
      vocabSize: typeof config.vocab_size === 'number' ? config.vocab_size : null,
      files: paths.sort().map((p) => ({ path: p, bytes: (files.get(p) as Blob).size })),
      dtypes,
      dtype: source.dtype,
    };
  }

  private async registerHub(source: Extract<ModelSource, { kind: 'hub' }>): Promise<RegisteredModel> {
    const problem = hubIdProblem(source.repo);
    if (problem) throw new ModelSourceError(problem);
    let host: string;
    try {
      const u = new URL(source.host);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
      host = u.href.endsWith('/') ? u.href : `${u.href}/`;
    } catch {
      throw new ModelSourceError(`The Hugging Face host "${source.host}" is not an http(s) URL (the default is https://huggingface.co/).`);
    }
    const repo = source.repo.trim();
    const revision = source.revision || 'main';
    this.forgetId(repo);
    this.hubs.set(repo, { repo, revision, host });
    this.dtypes.set(repo, source.dtype);
    const url = this.remoteUrl(repo, 'config.json');
    let res: Response;
    try {
      res = await this.opts.fetch(url);
    } catch (e) {
      this.hubs.delete(repo);
      throw new ModelSourceError(`Could not reach ${host} for ${repo} (${(e as Error).message}). Check the connection (loading by id needs the network), or pick a local folder instead.`);
    }
    if (!res.ok) {
      this.hubs.delete(repo);
      const why = res.status === 401 || res.status === 403 || res.status === 404 ? 'the repository does not exist, is private or gated, or has no config.json' : 'the server failed';
      throw new ModelSourceError(`${repo} was not found on ${host} (HTTP ${res.status} for config.json): ${why}. Check the id (org/name, as on the model's page) and that it has ONNX files (onnx/model.onnx).`);
    }
    let config: Record<string, unknown>;
    try {
      config = await readJsonFile(`${repo}/config.json`, await res.blob());
    } catch (e) {
      this.hubs.delete(repo);
      throw e;
    }
    return {
      id: repo,
      origin: 'hub',
      kind: kindOfConfig(config),
      modelType: typeof config.model_type === 'string' ? config.model_type : null,
      vocabSize: typeof config.vocab_size === 'number' ? config.vocab_size : null,
      files: [],
      dtypes: [source.dtype],
      dtype: source.dtype,
    };
  }

  private forgetId(id: string): void {
    this.folders.delete(id);
    this.hubs.delete(id);
    this.dtypes.delete(id);
  }

  private remoteUrl(id: string, file: string): string {
    const h = this.hubs.get(id) as Hub;
    return `${h.host}${h.repo}/resolve/${encodeURIComponent(h.revision)}/${file}`;
  }

  /**
   * Runs one model load at a time; a Hugging Face id's load runs with remote models and the Cache
   * API on, and `onProgress` gets the bytes of every file it reads.
   */
  run<T>(id: string, onProgress: ((p: DownloadProgress) => void) | undefined, load: () => Promise<T>): Promise<T> {
    const go = async () => {
      const env = this.opts.env;
      const saved = { allowRemoteModels: env.allowRemoteModels, useBrowserCache: env.useBrowserCache, remoteHost: env.remoteHost };
      const hub = this.hubs.get(id);
      if (hub) {
        env.allowRemoteModels = true;
        env.useBrowserCache = this.opts.cacheApi;
        env.remoteHost = hub.host;
      }
      if (onProgress) this.sinks.set(id, onProgress);
      try {
        return await load();
      } finally {
        this.sinks.delete(id);
        Object.assign(env, saved);
      }
    };
    const p = this.chain.then(go, go);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** The gate: transformers.js's `env.fetch`. */
  readonly fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), this.opts.location);
    const local = new URL(this.opts.location).origin === url.origin;
    if (local && url.href.startsWith(this.modelsUrl)) {
      const rel = decodeURIComponent(url.pathname.slice(new URL(this.modelsUrl).pathname.length));
      for (const [id, folder] of this.folders) {
        if (!rel.startsWith(`${id}/`)) continue;
        const file = rel.slice(id.length + 1);
        const blob = folder.files.get(file);
        if (!blob) return notFound(`${file} is not in the picked folder`);
        return this.track(id, file, new Response(blob, { headers: { 'content-type': blob.type || 'application/octet-stream', 'content-length': String(blob.size) } }));
      }
      for (const id of this.hubs.keys()) if (rel.startsWith(`${id}/`)) return notFound(`${id} is loaded from the Hugging Face host, not from this site`);
      const id = rel.split('/')[0] ?? '';
      const res = await this.opts.fetch(url.href, init);
      return this.track(id, rel.slice(id.length + 1), res);
    }
    if (local) return this.opts.fetch(url.href, init);
    for (const [id, hub] of this.hubs) {
      const prefix = `${hub.host}${hub.repo}/resolve/`;
      if (!url.href.startsWith(prefix)) continue;
      const res = await this.opts.fetch(url.href, init);
      const file = url.href.slice(prefix.length).split('/').slice(1).join('/');
      if (res.ok && file.endsWith('.json') && (res.headers.get('content-type') ?? '').includes('text/html')) {
        throw new ModelSourceError(`${id}: ${hub.host} answered ${file} with an HTML page instead of the file (a login, error or proxy page). Check the id and that the repository is public.`);
      }
      return this.track(id, file, res);
    }
    throw new ModelSourceError(
      `Blocked a request to ${url.origin}: this page works offline and contacts the Hugging Face host only while you load a model by id in the Models view.`,
    );
  };

  /** Counts the bytes of a response body for the load of `id`, if someone listens. */
  private track(id: string, file: string, res: Response): Response {
    const sink = this.sinks.get(id);
    if (!sink || !res.body || !res.ok) return res;
    const total = Number(res.headers.get('content-length') ?? 0);
    let loaded = 0;
    let last = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        loaded += chunk.byteLength;
        const now = Date.now();
        if (now - last > 50) {
          last = now;
          sink({ modelId: id, file, loaded, total: Math.max(total, loaded) });
        }
        ctl.enqueue(chunk);
      },
      flush() {
        sink({ modelId: id, file, loaded, total: Math.max(total, loaded) });
      },
    });
    return new Response(res.body.pipeThrough(counter), { status: res.status, statusText: res.statusText, headers: res.headers });
  }
}

function notFound(why: string): Response {
  return new Response(why, { status: 404, statusText: 'Not Found', headers: { 'content-type': 'text/plain' } });
}
