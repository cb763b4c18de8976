import { basename } from 'node:path';
import { fill } from '../render/mlflow-server.ts';
import { DECLARED, type Declarations, type PlacementValues } from './declared.ts';
import { describeOrigin, type ChartEnvVar, type ChartSpec, type InitContainer } from './manifest.ts';

export type Verdict = 'same' | 'declared' | 'differs';

export interface ParityRow {
  kind: 'arg' | 'env' | 'init' | 'pod';
  key: string;
  /** The chart's value as shown (never a secret's value); `—` when the chart does not set it. */
  chart: string;
  /** The local target's value as shown (never a secret's value); `—` when it does not set it. */
  local: string;
  verdict: Verdict;
  /** Ids of the declarations that explain a `declared` row (provision/chart/declared.ts). */
  placements?: string[];
  /** The declared placement(s) (id: reason), or what differs. */
  reason?: string;
  /** Where the chart's value comes from (env: value, configMap, secret; with what it overrides). */
  source?: string;
}

/** What the local target runs: `commandLine(ctx)` and `environment(ctx)` of the MLflow component. */
export interface LocalSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  /**
   * The Secret (name and key) each secret variable of the local process stands for: secrets are compared by this
   * reference, never by name guessing or by value (each side generates its own).
   */
  secretRefs?: Record<string, SecretRef>;
}

export interface SecretRef {
  secret: string;
  key: string;
}

export interface ParityContext {
  values: PlacementValues;
  /** The local side's secret values: a local value containing one is never shown. */
  secrets: string[];
  declarations?: Declarations;
}

export const ABSENT = '—';
/** Joins the reasons of several declarations in one row. */
const REASONS = ' + ';

/** `mlflow server --a=b --c` → the command (program name and positional arguments) and the flags in order. */
export function splitArgs(command: string[], args: string[]): { command: string; flags: [string, string][] } {
  const words = [...command, ...args];
  const positional: string[] = [];
  const flags: [string, string][] = [];
  for (const [i, w] of words.entries()) {
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      flags.push(eq < 0 ? [w, ''] : [w.slice(0, eq), w.slice(eq + 1)]);
    } else if (flags.length === 0) {
      positional.push(i === 0 ? basename(w) : w);
    } else {
      // a value given as a separate word belongs to the flag before it
      const last = flags[flags.length - 1]!;
      last[1] = last[1] === '' ? w : `${last[1]} ${w}`;
    }
  }
  return { command: positional.join(' '), flags };
}

function appliesTo(list: string[] | '*' | undefined, key: string): boolean {
  return list === '*' || (Array.isArray(list) && list.includes(key));
}

/**
 * Whether the declared placements explain the difference between two values of `key`: every spelling pair
 * that applies is replaced by the same token on each side; the values must then be equal.
 */
export function explainByPlacement(kind: 'arg' | 'env', key: string, chart: string, local: string, values: PlacementValues, d: Declarations = DECLARED): string[] | undefined {
  const used = new Set<string>();
  for (const p of d.statePaths) {
    const keys = kind === 'arg' ? p.applies.arg : p.applies.env;
    if (keys?.includes(key) && chart.startsWith('/') && local === `${fill(p.under, values).replace(/\/$/, '')}${chart}`) return [p.id];
  }
  const pairs: { id: string; chart: string; local: string; token: string }[] = [];
  for (const s of d.substitutions) {
    if (!appliesTo(kind === 'arg' ? s.applies.arg : s.applies.env, key)) continue;
    for (const [c, l] of s.pairs) {
      const pc = fill(c, values);
      const pl = fill(l, values);
      if (pc !== pl && pc !== '' && pl !== '') pairs.push({ id: s.id, chart: pc, local: pl, token: `\u0000${String.fromCharCode(0xe000 + pairs.length)}\u0000` });
    }
  }
  const normalise = (v: string, side: 'chart' | 'local') => {
    let out = v;
    for (const p of [...pairs].sort((a, b) => b[side].length - a[side].length)) {
      if (out.includes(p[side])) {
        out = out.split(p[side]).join(p.token);
        used.add(`${side}:${p.token}`);
      }
    }
    return out;
  };
  const nc = normalise(chart, 'chart');
  const nl = normalise(local, 'local');
  if (nc !== nl) return undefined;
  const ids = new Set(pairs.filter((p) => used.has(`chart:${p.token}`) && used.has(`local:${p.token}`)).map((p) => p.id));
  return ids.size > 0 ? [...ids] : undefined;
}

function reasonOf(ids: string[], d: Declarations): string {
  const all = [...d.substitutions, ...d.statePaths];
  return ids.map((id) => `${id}: ${all.find((x) => x.id === id)?.reason ?? ''}`).join(REASONS);
}

function declare(row: ParityRow, ids: string[], reason: string): void {
  row.verdict = 'declared';
  row.placements = ids;
  row.reason = reason;
}

const show = (v: string) => (v === '' ? '(set)' : v);

function compareArgs(chart: ChartSpec, local: LocalSpec, ctx: ParityContext, d: Declarations): ParityRow[] {
  const c = splitArgs(chart.container.command, chart.container.args);
  const l = splitArgs([local.command], local.args);
  const rows: ParityRow[] = [];
  rows.push({ kind: 'arg', key: 'command', chart: c.command || ABSENT, local: l.command || ABSENT, verdict: c.command === l.command ? 'same' : 'differs' });
  const group = (flags: [string, string][]) => {
    const m = new Map<string, string[]>();
    for (const [k, v] of flags) m.set(k, [...(m.get(k) ?? []), v]);
    return m;
  };
  const cf = group(c.flags);
  const lf = group(l.flags);
  const keys = [...cf.keys(), ...[...lf.keys()].filter((k) => !cf.has(k))];
  for (const key of keys) {
    const cv = cf.get(key);
    const lv = lf.get(key);
    const secret = [...(cv ?? []), ...(lv ?? [])].some((v) => containsSecret(v, ctx));
    const chartShown = !cv ? ABSENT : secret ? '(secret, present)' : cv.map(show).join(' ');
    const localShown = !lv ? ABSENT : secret ? '(secret, present)' : lv.map(show).join(' ');
    const row: ParityRow = { kind: 'arg', key, chart: chartShown, local: localShown, verdict: 'differs' };
    if (cv && lv) {
      if (cv.join('\n') === lv.join('\n')) row.verdict = 'same';
      else if (cv.length === 1 && lv.length === 1) {
        const ids = explainByPlacement('arg', key, cv[0]!, lv[0]!, ctx.values, d);
        if (ids) declare(row, ids, reasonOf(ids, d));
      }
    }
    if (row.verdict === 'differs') row.reason = !cv ? 'only the local server gets this flag' : !lv ? 'the chart gives this flag; the local server does not' : 'the values differ';
    rows.push(row);
  }
  return rows;
}

function containsSecret(value: string, ctx: ParityContext): boolean {
  return ctx.secrets.some((s) => s.length >= 6 && value.includes(s));
}

/** A local value is secret when it stands for a Secret or holds one of the stack's secret values — never by its name. */
function localIsSecret(key: string, value: string | undefined, local: LocalSpec, ctx: ParityContext): boolean {
  if (value === undefined) return false;
  return !!local.secretRefs?.[key] || containsSecret(value, ctx);
}

const refShown = (r: SecretRef) => `secret ${r.secret}/${r.key}`;

function chartShown(v: ChartEnvVar, secret: boolean): string {
  if (secret || v.value === undefined) {
    const state = v.present === 'unknown' ? '' : v.present ? ', present' : ', empty';
    return `(${describeOrigin(v.origin)}${state})`;
  }
  return v.value === '' ? '(empty)' : v.value;
}

function compareEnv(chart: ChartSpec, local: LocalSpec, ctx: ParityContext, d: Declarations): ParityRow[] {
  const rows: ParityRow[] = [];
  const chartEnv = new Map(chart.container.env.map((v) => [v.name, v]));
  const external = new Map(d.externalSecrets.map((s) => [s.name, s]));
  const refs = local.secretRefs ?? {};
  const sameRef = (key: string, secret: string, secretKey: string) => refs[key]?.secret === secret && refs[key]?.key === secretKey;
  // variables an unrendered envFrom secret provides, when that secret is declared
  const viaUnrendered = new Map<string, { name: string; key: string; createdBy: string }>();
  for (const u of chart.container.unrenderedEnvFrom) {
    const ext = u.type === 'secretRef' ? external.get(u.name) : undefined;
    const localKeys = ext ? ext.keys.map((k) => u.prefix + k) : [];
    for (const k of ext?.keys ?? []) if (!chartEnv.has(u.prefix + k)) viaUnrendered.set(u.prefix + k, { name: u.name, key: k, createdBy: ext!.createdBy });
    const missing = (ext?.keys ?? []).filter((k) => !(u.prefix + k in local.env) || !sameRef(u.prefix + k, u.name, k));
    rows.push({
      kind: 'env',
      key: `envFrom ${u.type === 'secretRef' ? 'secret' : 'configMap'} ${u.name}`,
      chart: `(${u.type === 'secretRef' ? 'secret' : 'configMap'} ${u.name}, not rendered by the chart${u.prefix ? `, prefix ${u.prefix}` : ''})`,
      local: ext ? (localKeys.filter((k) => k in local.env).join(', ') || ABSENT) : ABSENT,
      verdict: ext && missing.length === 0 ? 'declared' : 'differs',
      ...(ext && missing.length === 0 ? { placements: ['external-secret'] } : {}),
      reason: !ext ? `the chart reads ${u.name}, which is neither rendered by the chart nor declared (provision/chart/declared.ts)`
        : missing.length > 0 ? `the local server does not take ${missing.map((k) => u.prefix + k).join(', ')} from ${u.name}` : `external-secret: created by ${ext.createdBy}`,
    });
  }
  const localOnly = new Map<string, string>();
  for (const lo of d.localOnly) for (const k of lo.keys) localOnly.set(k, lo.reason);

  const keys = [...chartEnv.keys(), ...Object.keys(local.env).filter((k) => !chartEnv.has(k))];
  for (const key of keys) {
    const c = chartEnv.get(key);
    const l = local.env[key];
    const lSecret = localIsSecret(key, l, local, ctx);
    const lRef = refs[key];
    const localShown = l === undefined ? ABSENT : lRef ? `(${refShown(lRef)}${l === '' ? ', empty' : ', present'})` : lSecret ? '(secret, present)' : l === '' ? '(empty)' : l;
    const row: ParityRow = { kind: 'env', key, chart: ABSENT, local: localShown, verdict: 'differs' };
    if (!c) {
      const via = viaUnrendered.get(key);
      if (via) {
        row.chart = `(envFrom secret ${via.name}, not rendered by the chart)`;
        row.source = `envFrom secret ${via.name}`;
        if (l === undefined || l === '') row.reason = `the local server does not set ${key}, which ${via.name} provides in the cluster`;
        else if (!sameRef(key, via.name, via.key)) row.reason = `the chart takes ${key} from secret ${via.name}/${via.key}; the local value ${lRef ? `stands for ${refShown(lRef)}` : 'is no Secret reference'}`;
        else declare(row, ['external-secret'], `external-secret: created by ${via.createdBy}`);
      } else if (localOnly.has(key)) {
        declare(row, ['local-only'], `local-only: ${localOnly.get(key)}`);
      } else {
        row.reason = 'only the local server gets this variable';
      }
      rows.push(row);
      continue;
    }
    row.chart = chartShown(c, c.secret);
    row.source = describeOrigin(c.origin) + (c.overrides.length ? ` (overrides ${c.overrides.join(', ')})` : '');
    if (l === undefined) {
      row.reason = 'the chart sets this variable; the local server does not';
    } else if (c.origin.type === 'secretKeyRef' || c.origin.type === 'secretRef') {
      // a Secret on the chart's side: the same Secret and key on the local side (values are each side's own)
      const { name, key: secretKey } = c.origin;
      const rendered = c.origin.type === 'secretRef' || ('rendered' in c.origin && c.origin.rendered);
      const ext = external.get(name);
      if (!sameRef(key, name, secretKey)) row.reason = `the chart takes ${key} from secret ${name}/${secretKey}; the local value ${lRef ? `stands for ${refShown(lRef)}` : 'is no Secret reference'}`;
      else if (l === '') row.reason = 'the local value is empty';
      else if (rendered) {
        if (c.present === true) row.verdict = 'same';
        else row.reason = 'the chart renders the secret without a value';
      } else if (ext?.keys.includes(secretKey)) declare(row, ['external-secret'], `external-secret: created by ${ext.createdBy}`);
      else row.reason = `the chart reads secret ${name}/${secretKey}, which is neither rendered by the chart nor declared (provision/chart/declared.ts)`;
    } else if (c.value === undefined) {
      row.reason = `the chart's value comes from ${describeOrigin(c.origin)} and is not known`;
    } else if (lSecret) {
      // a literal on the chart's side is compared whatever the variable is called: here the local side holds a secret
      row.reason = 'the chart gives a literal value; the local server a secret';
    } else if (c.value === l) {
      row.verdict = 'same';
    } else {
      const ids = explainByPlacement('env', key, c.value, l, ctx.values, d);
      if (ids) declare(row, ids, reasonOf(ids, d));
      else row.reason = 'the values differ';
    }
    rows.push(row);
  }
  return rows;
}

function initShown(i: InitContainer): string {
  return `${i.image}: ${[...i.command, ...i.args].join(' ').replace(/\s+/g, ' ').trim()}`;
}

/** A declared pattern with its `{placeholders}` filled (values escaped), anchored as written. */
function pattern(source: string, values: PlacementValues): RegExp {
  const escaped = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')]));
  return new RegExp(fill(source, escaped));
}

function compareInits(chart: ChartSpec, ctx: ParityContext, d: Declarations): ParityRow[] {
  const rows: ParityRow[] = [];
  const replaced = new Map(d.replacedInits.map((r) => [r.name, r]));
  for (const i of chart.initContainers) {
    const r = replaced.get(i.name);
    const row: ParityRow = { kind: 'init', key: i.name, chart: initShown(i), local: r?.local ?? ABSENT, verdict: 'differs' };
    if (!r) {
      row.reason = 'an init container the local target has no step for';
    } else {
      const script = i.files.map((f) => f.content ?? '').join('\n');
      const command = [...i.command, ...i.args].join(' ').replace(/\s+/g, ' ').trim();
      const missing = (r.requires.scriptIncludes ?? []).filter((s) => !script.includes(s));
      if (!pattern(r.requires.image, ctx.values).test(i.image)) row.reason = `the init container runs image ${i.image || '(none)'}; declared: ${fill(r.requires.image, ctx.values)}`;
      else if (!pattern(r.requires.command, ctx.values).test(command)) row.reason = `the init container runs \`${command}\`; declared: ${fill(r.requires.command, ctx.values)}`;
      else if (missing.length > 0) row.reason = `the init container's script no longer does what the local step does: missing ${missing.map((m) => `\`${m}\``).join(', ')}`;
      else declare(row, ['replaced-init'], `replaced-init: ${r.reason}`);
    }
    rows.push(row);
  }
  for (const r of d.replacedInits) {
    if (chart.initContainers.some((i) => i.name === r.name)) continue;
    rows.push({ kind: 'init', key: r.name, chart: ABSENT, local: r.local, verdict: 'differs', reason: 'the chart no longer has this init container; the local target still runs its replacement' });
  }
  return rows;
}

/** `{a: {b: 1}}` → `[['a.b', 1]]` (arrays kept whole). */
function flatten(o: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]]));
}

/**
 * The pod around the `mlflow` container — security contexts (read-only root, user, capabilities), resources,
 * probes, ports, service account, volumes and mounts — against the local process. The local target declares what
 * it does not enforce (provision/chart/declared.ts `pod`); a read-only root the chart asks for, or a mount no
 * declaration places, is `differs`: a chart whose pod MLflow cannot run in fails here before it reaches a cluster.
 */
function comparePod(chart: ChartSpec, d: Declarations): ParityRow[] {
  const rows: ParityRow[] = [];
  const p = chart.pod;
  const declaredFor = (key: string) => d.pod.find((x) => x.keys.some((k) => key === k || key.startsWith(`${k}.`)));
  const fields: [string, unknown][] = [
    ...flatten(p.podSecurityContext, 'podSecurityContext.'),
    ...flatten(p.securityContext, 'securityContext.'),
    ...flatten(p.resources, 'resources.'),
    ...Object.entries(p.probes).map(([k, v]) => [k, v] as [string, unknown]),
    ['ports', p.ports],
    ['serviceAccount', p.serviceAccount],
  ];
  for (const [key, value] of fields) {
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    const row: ParityRow = { kind: 'pod', key, chart: shown, local: LOCAL_POD[key] ?? ABSENT, verdict: 'differs' };
    if (key === 'securityContext.readOnlyRootFilesystem') {
      if (value === false) row.verdict = 'same';
      else row.reason = 'the chart runs MLflow on a read-only root file system (writable only where it mounts a volume); the local process writes where it likes: not enforced here';
    } else {
      const decl = declaredFor(key);
      if (decl) declare(row, [decl.id], `${decl.id}: ${decl.reason}`);
      else row.reason = 'a pod setting the local target has no declaration for';
    }
    rows.push(row);
  }
  for (const m of p.mounts) {
    const row: ParityRow = { kind: 'pod', key: `mount ${m.path}`, chart: `${m.source} (volume ${m.volume}${m.readOnly ? ', read-only' : ''})`, local: ABSENT, verdict: 'differs' };
    const decl = d.podMounts.find((x) => x.path === m.path && m.source.startsWith(x.source));
    if (decl) declare(row, [decl.id], `${decl.id}: ${decl.reason}`);
    else row.reason = 'a volume of the chart\'s pod the local target has no place for';
    rows.push(row);
  }
  return rows;
}

/** What the local target's MLflow process has in place of a pod setting (shown in `pod` rows). */
const LOCAL_POD: Record<string, string> = {
  'securityContext.readOnlyRootFilesystem': 'false (a writable root)',
  'securityContext.runAsUser': 'the harness\'s user',
  'securityContext.runAsGroup': 'the harness\'s group',
  'serviceAccount': '(no cluster API)',
  ports: '127.0.0.1:<free port>',
};

/** Every argument, variable and init container of the chart's `mlflow` container, and its pod, against the local target. */
export function compareParity(chart: ChartSpec, local: LocalSpec, ctx: ParityContext): ParityRow[] {
  const d = ctx.declarations ?? DECLARED;
  return [...compareArgs(chart, local, ctx, d), ...compareEnv(chart, local, ctx, d), ...compareInits(chart, ctx, d), ...comparePod(chart, d)];
}

export function countVerdicts(rows: ParityRow[]): Record<Verdict, number> {
  const n: Record<Verdict, number> = { same: 0, declared: 0, differs: 0 };
  for (const r of rows) n[r.verdict]++;
  return n;
}

/** Wraps a cell to lines of at most `width` characters (breaking long words). */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (let rest = text; rest.length > 0 || out.length === 0;) {
    if (rest.length <= width) { out.push(rest); break; }
    let cut = Math.max(rest.lastIndexOf(',', width - 1) + 1, rest.lastIndexOf(' ', width), rest.lastIndexOf('/', width - 1) + 1);
    if (cut < width / 3) cut = width;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  return out;
}

/** The rows as a text table (verdict, kind, key, chart, local, declared-as / why), cells wrapped. */
export function formatParityTable(rows: ParityRow[], widths = { key: 34, value: 46, why: 30 }): string {
  const header = ['verdict', 'kind', 'key', 'chart', 'local', 'declared as / why'];
  const w = [8, 4, widths.key, widths.value, widths.value, widths.why];
  const why = (r: ParityRow) => (r.verdict === 'declared' ? (r.placements ?? []).join(', ') : r.verdict === 'differs' ? (r.reason ?? '') : '');
  const lines: string[] = [];
  const emit = (cells: string[]) => {
    const wrapped = cells.map((c, i) => wrap(c, w[i]!));
    const height = Math.max(...wrapped.map((x) => x.length));
    for (let j = 0; j < height; j++) lines.push(wrapped.map((x, i) => (x[j] ?? '').padEnd(w[i]!)).join('  ').trimEnd());
  };
  emit(header);
  lines.push(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) emit([r.verdict, r.kind, r.key, r.chart, r.local, why(r)]);
  return lines.join('\n');
}

/** The reasons of the declarations the rows use, one line each. */
export function formatDeclarations(rows: ParityRow[]): string {
  const seen = new Set<string>();
  for (const r of rows) if (r.verdict === 'declared' && r.reason) for (const part of r.reason.split(REASONS)) seen.add(part);
  return [...seen].map((p) => `  ${p}`).join('\n');
}
