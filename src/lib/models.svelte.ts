/**
 * The model registry: the bundled models of models/manifest.json plus the models the user adds in
 * this session (a folder picked from this computer, or a Hugging Face id). The run form's role
 * pickers list registered models of a fitting kind: a causal LM can be the policy, an ARM, a tuned
 * or a reference model; a sequence classifier only a sequence reward model. Roles are chosen per run.
 *
 * Picked files are handed to the inference worker as `File`s (never uploaded); a Hugging Face id is
 * fetched from the hub host (default https://huggingface.co/, `?hfHost=` overrides it) only when the
 * user loads it. Model cards are fetched on demand and shown as text.
 */
import type { InferenceClient } from '../inference/client.ts';
import type { DownloadProgress, ModelKind } from '../inference/protocol.ts';
import { dtypesOf, hubIdProblem, localModelId } from '../inference/sources.ts';
import { fetchManifest, type Manifest, type ManifestModel, type ModelRole } from './manifest.ts';

export type Origin = 'bundled' | 'local' | 'hub';
export type Status = 'available' | 'adding' | 'loading' | 'loaded' | 'error';

export interface RegistryModel {
  readonly id: string;
  readonly origin: Origin;
  /** null while unknown (a folder or id that could not be registered). */
  readonly kind: ModelKind | null;
  /** The bundled model's role in the manifest, and the roles it also plays (tiny-base: reference). */
  readonly role?: ModelRole;
  readonly also?: readonly ModelRole[];
  readonly attribute?: string;
  readonly params: number | null;
  /** Total size of the model's files (for a Hugging Face id: of the files downloaded so far). */
  readonly bytes: number | null;
  readonly license?: string;
  readonly dtypes: readonly string[];
  readonly dtype: string;
  readonly status: Status;
  readonly error: string;
  /** Bytes read per file during the last load. */
  readonly progress: Readonly<Record<string, { loaded: number; total: number }>>;
  /** A picked folder's files (README.md is its card). */
  readonly files?: readonly File[];
  readonly hub?: { readonly host: string; readonly revision: string };
  /** A loaded causal LM's generation_config.json (absent when it has none). */
  readonly generationDefaults?: Readonly<Record<string, unknown>>;
}

export const DEFAULT_HF_HOST = 'https://huggingface.co/';
/** dtypes offered for a Hugging Face id (the ONNX files transformers.js looks for). */
export const HUB_DTYPES = ['fp32', 'fp16', 'q8', 'q4'] as const;

const LM_ROLES: readonly ModelRole[] = ['policy', 'arm', 'tuned', 'reference'];
const RM_ROLES: readonly ModelRole[] = ['sequence_rm'];

/** The roles a model of this kind can play in a run. */
export function rolesFor(kind: ModelKind | null): readonly ModelRole[] {
  return kind === 'causal-lm' ? LM_ROLES : kind === 'sequence-classifier' ? RM_ROLES : [];
}

/** A bundled model's kind: the manifest's loader (AutoModel = scalar-head reward model) or role. */
export function manifestKind(m: Pick<ManifestModel, 'role'> & { loader?: string }): ModelKind {
  if (m.loader) return m.loader === 'AutoModelForCausalLM' ? 'causal-lm' : 'sequence-classifier';
  return m.role === 'sequence_rm' ? 'sequence-classifier' : 'causal-lm';
}

/** Sum of file sizes in bytes. */
export function totalBytes(files: readonly { bytes: number }[]): number {
  return files.reduce((s, f) => s + f.bytes, 0);
}

/** "5.6 MB" (decimal megabytes, as download sizes are usually given). */
export function formatSize(bytes: number | null): string {
  if (bytes === null) return '—';
  if (bytes < 1e5) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

/** "1.35M" parameters. */
export function formatParams(params: number | null): string {
  if (params === null) return '—';
  return params >= 1e9 ? `${(params / 1e9).toFixed(2)}B` : `${(params / 1e6).toFixed(2)}M`;
}

/** The registry entry of a bundled model; its dtypes are those whose ONNX file the manifest lists. */
export function fromManifest(m: ManifestModel): RegistryModel {
  const extra = m as ManifestModel & { license?: string; loader?: string; also?: ModelRole[] };
  const dtypes = dtypesOf(m.files.map((f) => f.path));
  return {
    id: m.id,
    origin: 'bundled',
    kind: manifestKind(extra),
    role: m.role,
    also: extra.also ?? [],
    attribute: m.attribute,
    params: m.params,
    bytes: totalBytes(m.files),
    license: extra.license,
    dtypes,
    dtype: dtypes[0] ?? 'fp32',
    status: 'available',
    error: '',
    progress: {},
  };
}

/** How the Models view and the pickers name a model's roles. */
export function roleText(m: RegistryModel): string {
  if (m.origin === 'bundled' && m.role) {
    const roles = [m.role, ...(m.also ?? [])].map((r) => (r === 'sequence_rm' ? 'sequence RM' : r === 'arm' ? 'ARM' : r));
    return roles.join(', ') + (m.attribute ? ` (${m.attribute})` : '');
  }
  if (!m.kind) return 'unknown';
  return m.kind === 'causal-lm' ? 'causal LM: policy, ARM, tuned or reference' : 'sequence classifier: reward model';
}

/** The picked folder's name (first segment of webkitRelativePath). */
export function folderName(files: readonly File[]): string {
  const rel = (files[0] as (File & { webkitRelativePath?: string }) | undefined)?.webkitRelativePath ?? '';
  return rel.split('/')[0] || 'folder';
}

export interface CardState {
  readonly open: boolean;
  readonly text: string;
  readonly error: string;
}

export class ModelRegistry {
  models = $state.raw<RegistryModel[]>([]);
  manifestError = $state('');
  /** Why the Hugging Face id typed in could not be used (shown under the field). */
  hubError = $state('');
  cards = $state.raw<Record<string, CardState>>({});
  /** The hub host for Hugging Face ids (`?hfHost=` overrides the default). */
  readonly hfHost: string;

  /** Causal LMs that can be chosen for policy, ARM, tuned and reference. */
  readonly causalLms = $derived(this.models.filter((m) => m.kind === 'causal-lm' && m.status !== 'error' && m.status !== 'adding'));
  /** Sequence classifiers: the reward-model picker. */
  readonly rewardModels = $derived(this.models.filter((m) => m.kind === 'sequence-classifier' && m.status !== 'error' && m.status !== 'adding'));

  constructor(
    private readonly client: InferenceClient,
    private readonly base: string,
    params: URLSearchParams = new URLSearchParams(),
  ) {
    const host = params.get('hfHost');
    this.hfHost = host ? (host.endsWith('/') ? host : `${host}/`) : DEFAULT_HF_HOST;
  }

  get(id: string): RegistryModel | undefined {
    return this.models.find((m) => m.id === id);
  }

  setManifest(manifest: Manifest): void {
    const added = this.models.filter((m) => m.origin !== 'bundled');
    this.models = [...manifest.models.map(fromManifest), ...added];
  }

  async loadManifest(load: (base: string) => Promise<Manifest> = fetchManifest): Promise<void> {
    try {
      this.setManifest(await load(this.base));
    } catch (e) {
      this.manifestError = (e as Error).message;
    }
  }

  private patch(id: string, fields: Partial<RegistryModel>): void {
    this.models = this.models.map((m) => (m.id === id ? { ...m, ...fields } : m));
  }

  private upsert(entry: RegistryModel): void {
    this.models = this.models.some((m) => m.id === entry.id) ? this.models.map((m) => (m.id === entry.id ? entry : m)) : [...this.models, entry];
  }

  /** Removes a model the user added (bundled models stay). */
  remove(id: string): void {
    this.models = this.models.filter((m) => m.id !== id || m.origin === 'bundled');
  }

  /** Loads a registered model into the worker (on the current device), with download progress. */
  async load(id: string, dtype?: string): Promise<void> {
    const m = this.get(id);
    if (!m || !m.kind) return;
    const d = dtype ?? m.dtype;
    this.patch(id, { status: 'loading', error: '', progress: {}, dtype: d });
    try {
      const { model: info } = await this.client.load(id, { as: m.kind === 'sequence-classifier' ? 'rm' : 'lm', dtype: d, onDownload: (p) => this.progress(p) });
      const now = this.get(id);
      const downloaded = now ? Object.values(now.progress).reduce((s, f) => s + f.total, 0) : 0;
      this.patch(id, { status: 'loaded', ...(m.origin === 'hub' && downloaded ? { bytes: downloaded } : {}), ...(info?.generationDefaults ? { generationDefaults: info.generationDefaults } : {}) });
    } catch (e) {
      this.patch(id, { status: 'error', error: (e as Error).message });
    }
  }

  private progress(p: DownloadProgress): void {
    const m = this.get(p.modelId);
    if (m) this.patch(p.modelId, { progress: { ...m.progress, [p.file]: { loaded: p.loaded, total: p.total } } });
  }

  /** Adds a folder picked with <input webkitdirectory> (its Files never leave the browser), then loads it. */
  async addFolder(files: readonly File[]): Promise<string> {
    const name = folderName(files);
    const id = localModelId(name);
    const paths = files.map((f) => ((f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name).split('/').slice(1).join('/'));
    const dtypes = dtypesOf(paths);
    const dtype = dtypes[0] ?? 'fp32';
    const bytes = files.reduce((s, f) => s + f.size, 0);
    this.upsert({ id, origin: 'local', kind: null, params: null, bytes, dtypes, dtype, status: 'adding', error: '', progress: {}, files: [...files] });
    try {
      const info = await this.client.register({
        kind: 'folder',
        name,
        dtype,
        files: files.map((f) => ({ path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || `${name}/${f.name}`, file: f })),
      });
      this.patch(id, { kind: info.kind, dtypes: info.dtypes, dtype: info.dtype, bytes: totalBytes(info.files), status: 'available' });
    } catch (e) {
      this.patch(id, { status: 'error', error: (e as Error).message });
      return id;
    }
    await this.load(id);
    return id;
  }

  /** Adds a Hugging Face id (fetched from the hub host now, kept in the Cache API), then loads it. */
  async addHub(repo: string, dtype: string, revision = 'main'): Promise<string> {
    const id = repo.trim();
    const problem = hubIdProblem(id);
    this.hubError = problem ?? '';
    if (problem) return id; // not an org/name id: it never names a bundled or local model
    const entry: RegistryModel = { id, origin: 'hub', kind: null, params: null, bytes: null, dtypes: [dtype], dtype, status: 'adding', error: '', progress: {}, hub: { host: this.hfHost, revision } };
    this.upsert(entry);
    try {
      const info = await this.client.register({ kind: 'hub', repo: id, revision, host: this.hfHost, dtype });
      this.patch(id, { kind: info.kind, status: 'available' });
    } catch (e) {
      this.patch(id, { status: 'error', error: (e as Error).message });
      return id;
    }
    await this.load(id);
    return id;
  }

  /** Opens or closes a model card, fetching its README.md the first time (shown as text). */
  async toggleCard(id: string): Promise<void> {
    const card = this.cards[id];
    if (card) {
      this.cards = { ...this.cards, [id]: { ...card, open: !card.open } };
      if (card.text || !card.open) return;
    }
    this.cards = { ...this.cards, [id]: { open: true, text: '', error: '' } };
    let text = '';
    let error = '';
    try {
      text = await this.readCard(id);
    } catch (e) {
      error = (e as Error).message;
    }
    this.cards = { ...this.cards, [id]: { open: this.cards[id]?.open ?? true, text, error } };
  }

  private async readCard(id: string): Promise<string> {
    const m = this.get(id);
    if (!m) throw new Error(`Unknown model ${id}.`);
    if (m.origin === 'local') {
      const f = m.files?.find((x) => /^[^/]+\/README\.md$/i.test((x as File & { webkitRelativePath?: string }).webkitRelativePath ?? ''));
      if (!f) throw new Error('This folder has no README.md model card.');
      return f.text();
    }
    const url = m.origin === 'bundled' ? `${this.base}models/${id}/README.md` : `${m.hub?.host ?? this.hfHost}${id}/resolve/${m.hub?.revision ?? 'main'}/README.md`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`No model card: ${url} answered HTTP ${res.status}.`);
    if ((res.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${url} returned an HTML page, not the model card.`);
    return res.text();
  }
}
