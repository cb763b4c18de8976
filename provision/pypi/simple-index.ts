import { z } from 'zod';
import { HarnessError } from '../errors.ts';
import { compareVersions, isFinalRelease } from '../versions/pep440.ts';

/**
 * A package index's JSON simple API (PEP 691, with PEP 700's upload times): which releases of a project it serves.
 * The harness asks it only for the projects a pin set is made of (mlflow, mlflow-oidc-auth).
 */

/** One release of a project: a final version (no pre-, dev- or local release) with at least one file not yanked. */
export interface Release {
  version: string;
  /** When its first file was uploaded (RFC 3339), where the index says (PEP 700). */
  uploaded?: string;
}

const SimpleProject = z.object({
  meta: z.object({ 'api-version': z.string() }).passthrough(),
  files: z.array(z.object({
    filename: z.string(),
    yanked: z.union([z.boolean(), z.string()]).optional(),
    'upload-time': z.string().optional(),
  }).passthrough()),
}).passthrough();

/** The index pip and uv use: UV_DEFAULT_INDEX, UV_INDEX_URL, PIP_INDEX_URL, else PyPI. */
export function indexUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.UV_DEFAULT_INDEX || env.UV_INDEX_URL || env.PIP_INDEX_URL || 'https://pypi.org/simple/';
  return url.endsWith('/') ? url : `${url}/`;
}

const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** The version a distribution file carries (wheel or sdist), or undefined for a file of another project. */
export function fileVersion(filename: string, project: string): string | undefined {
  const stem = filename.replace(/\.(whl|tar\.gz|tar\.bz2|tar\.xz|zip|egg)$/i, '');
  if (stem === filename) return undefined;
  const name = normalize(project).replace(/-/g, '[-_.]+');
  const m = new RegExp(`^${name}-(.+)$`, 'i').exec(stem);
  if (!m?.[1]) return undefined;
  // a wheel is name-version(-build)-python-abi-platform: the version is the first part
  return filename.toLowerCase().endsWith('.whl') ? m[1].split('-')[0] : m[1];
}

/** The final, not entirely yanked releases among an index page's files, newest first. */
export function releasesOf(project: string, files: z.infer<typeof SimpleProject>['files']): Release[] {
  const byVersion = new Map<string, { live: number; uploaded?: string }>();
  for (const f of files) {
    const v = fileVersion(f.filename, project);
    if (!v || !isFinalRelease(v)) continue;
    const r = byVersion.get(v) ?? { live: 0 };
    if (f.yanked === undefined || f.yanked === false) r.live++;
    const t = f['upload-time'];
    if (t && (!r.uploaded || t < r.uploaded)) r.uploaded = t;
    byVersion.set(v, r);
  }
  return [...byVersion.entries()]
    .filter(([, r]) => r.live > 0)
    .map(([version, r]) => (r.uploaded ? { version, uploaded: r.uploaded } : { version }))
    .sort((a, b) => compareVersions(b.version, a.version));
}

/** The releases of `project` the index serves, newest first; one line naming the index when it cannot say. */
export async function listReleases(project: string, index = indexUrl(), fetchImpl: typeof fetch = fetch): Promise<Release[]> {
  const url = `${index}${normalize(project)}/`;
  const hint = 'check the network and UV_DEFAULT_INDEX / UV_INDEX_URL / PIP_INDEX_URL (an index serving the JSON simple API, PEP 691)';
  let body: unknown;
  try {
    const res = await fetchImpl(url, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' }, signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new HarnessError(`Cannot list the releases of ${project}: ${url} answered HTTP ${res.status}`, hint);
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('json')) throw new HarnessError(`Cannot list the releases of ${project}: ${url} answered ${type.split(';')[0] || 'no content type'}, not the JSON simple API`, hint);
    body = await res.json();
  } catch (e) {
    if (e instanceof HarnessError) throw e;
    throw new HarnessError(`Cannot list the releases of ${project} from ${url}: ${(e as Error).message}`, hint);
  }
  const page = SimpleProject.safeParse(body);
  if (!page.success) throw new HarnessError(`Cannot list the releases of ${project}: ${url} is not a JSON simple API page (${page.error.issues[0]!.path.join('.')}: ${page.error.issues[0]!.message})`, hint);
  return releasesOf(project, page.data.files);
}
