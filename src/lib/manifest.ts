/** The bundled-model manifest served at <base>models/manifest.json (DESIGN §6). */
export type ModelRole = 'policy' | 'arm' | 'tuned' | 'reference' | 'sequence_rm';

export interface ManifestModel {
  readonly id: string;
  readonly role: ModelRole;
  readonly params: number;
  readonly attribute?: string;
  readonly files: readonly { path: string; bytes: number; sha256: string }[];
}

export interface Manifest {
  readonly models: readonly ManifestModel[];
}

export async function fetchManifest(base: string): Promise<Manifest> {
  const url = `${base}models/manifest.json`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Could not load ${url} (HTTP ${res.status}): the bundled models are missing from this site.`);
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('text/html')) throw new Error(`${url} returned an HTML page instead of JSON: the host rewrites missing files to index.html.`);
  return (await res.json()) as Manifest;
}
