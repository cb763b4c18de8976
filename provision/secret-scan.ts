import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from './paths.ts';

/** A secret of the stack, named by where it comes from (never by its value). */
export interface Secret {
  name: string;
  value: string;
}

/** Every string of a secrets file, named by its JSON path (passwords, client secret, S3 keys, tokens). */
export function secretsOf(json: unknown, prefix: string): Secret[] {
  if (typeof json === 'string') return json.length >= 8 ? [{ name: prefix, value: json }] : [];
  if (json && typeof json === 'object') return Object.entries(json).flatMap(([k, v]) => secretsOf(v, `${prefix}.${k}`));
  return [];
}

/** The stack's secrets, and the forms they travel in: Basic headers carry base64(`user:token`). */
export function stackSecrets(state: string, emails: string[] = []): Secret[] {
  const read = (f: string) => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as unknown) : {});
  const base = [...secretsOf(read(join(state, 'secrets.json')), 'secrets'), ...secretsOf(read(join(state, 'run', 'tokens.json')), 'tokens')];
  const encoded = base.flatMap((s) => emails.map((e) => ({ name: `${s.name} (in a Basic header of ${e})`, value: Buffer.from(`${e}:${s.value}`).toString('base64') })));
  return [...base, ...encoded];
}

function* files(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

async function unzipped(file: string): Promise<string> {
  const r = await execa('unzip', ['-p', file], { reject: false, encoding: 'latin1', maxBuffer: 200 * 1024 * 1024 });
  return r.stdout;
}

/**
 * The text of a file to search: zip archives (Playwright traces) entry by entry, and the HTML report together
 * with the zip it embeds as a data: URL (its tests, errors and attachments).
 */
async function textOf(file: string): Promise<string> {
  if (statSync(file).size > 50 * 1024 * 1024) return '';
  if (file.endsWith('.zip')) return unzipped(file);
  const text = readFileSync(file, 'latin1');
  const embedded = file.endsWith('.html') ? [...text.matchAll(/data:application\/zip;base64,([A-Za-z0-9+/=]+)/g)] : [];
  const parts = [text];
  for (const m of embedded) {
    const dir = mkdtempSync(join(tmpdir(), 'report-zip-'));
    try {
      writeFileSync(join(dir, 'r.zip'), Buffer.from(m[1]!, 'base64'));
      parts.push(await unzipped(join(dir, 'r.zip')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return parts.join('\n');
}

export interface Leak {
  secret: string;
  where: string;
}

/**
 * Searches the given folders (reports, HTML, JUnit, traces, attachments) and texts (the run's output) for every
 * secret; returns where each one was found — by name, never by value.
 */
export async function findLeaks(secrets: Secret[], dirs: string[], texts: Record<string, string> = {}): Promise<Leak[]> {
  const leaks: Leak[] = [];
  const search = (where: string, text: string) => {
    for (const s of secrets) if (text.includes(s.value)) leaks.push({ secret: s.name, where });
  };
  for (const [where, text] of Object.entries(texts)) search(where, text);
  for (const dir of dirs) for (const f of files(dir)) search(relative(projectRoot, f), await textOf(f));
  return leaks;
}
