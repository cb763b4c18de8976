import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { COMPONENTS } from './local/components/index.ts';
import { LedgerFile } from './local/ledger.ts';
import { isAlive, tail } from './local/process.ts';
import { projectRoot } from './paths.ts';
import type { Secret } from './secret-scan.ts';

/** Replaces every secret value (and its Basic-header form) by its name. */
export function redact(text: string, secrets: Secret[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.value.length - a.value.length)) out = out.split(s.value).join(`«${s.name}»`);
  return out;
}

function* traces(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* traces(p);
    else if (e.name === 'trace.zip' || e.name === 'error-context.md') yield p;
  }
}

export interface Diagnosis {
  /** `infrastructure` when a component of the stack is down or unhealthy, else `product`. */
  failed: 'infrastructure' | 'product';
  components: Record<string, { running: boolean; log?: string }>;
  folder: string;
}

/**
 * On a failed run: one folder with each component's log tail, the applied configuration, the ledger, the
 * traces of the failed checks, and whether the stack itself (infrastructure) or the product failed. Secrets are
 * redacted from every text it writes; traces are listed with their paths (they stay where Playwright wrote them).
 */
export function writeDiagnostics(state: string, out: string, resultsDir: string, secrets: Secret[]): Diagnosis {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'logs'), { recursive: true });
  const ledger = new LedgerFile(state).read();
  const components: Diagnosis['components'] = {};
  for (const c of COMPONENTS) {
    const entry = ledger?.components[c];
    const running = !!entry && isAlive(entry.pid);
    components[c] = { running };
    if (entry?.log && existsSync(entry.log)) {
      const file = join(out, 'logs', `${c}.log`);
      writeFileSync(file, `${redact(tail(entry.log, 200), secrets)}\n`);
      components[c].log = relative(projectRoot, file);
    }
  }
  for (const f of ['description.json', 'ledger.json', 'target.json']) {
    const p = join(state, f);
    if (existsSync(p)) writeFileSync(join(out, f), redact(readFileSync(p, 'utf8'), secrets));
  }
  const failedTraces = [...traces(resultsDir)].map((p) => relative(projectRoot, p));
  for (const p of failedTraces.filter((t) => t.endsWith('error-context.md'))) {
    writeFileSync(join(out, `${basename(join(p, '..'))}.md`), redact(readFileSync(join(projectRoot, p), 'utf8'), secrets));
  }
  const failed = ledger && Object.values(components).some((c) => !c.running) ? 'infrastructure' : 'product';
  const diagnosis: Diagnosis = { failed, components, folder: relative(projectRoot, out) };
  writeFileSync(join(out, 'diagnosis.json'), `${JSON.stringify({ ...diagnosis, traces: failedTraces }, null, 2)}\n`);
  return diagnosis;
}
