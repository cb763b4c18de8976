import type { APIRequestContext } from '@playwright/test';
import { probeOutcome, shapeOutcome, type Attempt, type ProbeOutcome } from '../../conformance/security/probe-outcome.ts';
import type { Outcome } from '../../conformance/security/outcomes.ts';
import { rawOf, twinLabel, variantOf, VARIANTS, type ProbeRequest, type RawRequest, type Variant } from '../../conformance/security/shapes.ts';
import { stateRequest, type ExperimentRefs, type ModelRefs, type Probe, type StateKey } from './probes.ts';

/**
 * Runs the bypass audit's probes: each as the owner first (the positive control), then as the attacker in its own
 * shape and in every request-shape variant, all at once (a few requests in flight; the server is one uvicorn
 * worker); the owner reads the victim's resources once afterwards to see which writes landed. Variants the attacker
 * got neither a refusal nor a data-less answer for are asked again as the owner (is the shape served at all?).
 */

export interface BaseResult {
  route: string;
  outcome: ProbeOutcome;
  evidence: string;
}
export interface ShapeRun {
  route: string;
  variant: Variant;
  outcome: Outcome;
  evidence: string;
  /** The base shape's outcome for the attacker. */
  base: ProbeOutcome;
}

/** Runs `fn` over the items with at most `n` in flight. */
export async function pool<T, U>(items: T[], n: number, fn: (t: T) => Promise<U>): Promise<U[]> {
  const out: U[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

async function send(ctx: APIRequestContext, baseUrl: string, raw: RawRequest): Promise<Attempt> {
  try {
    const res = await ctx.fetch(`${baseUrl}${raw.path}${raw.query ? `?${raw.query}` : ''}`, { method: raw.method, headers: raw.headers, ...(raw.body !== undefined ? { data: raw.body } : {}), maxRedirects: 3, timeout: 15_000 });
    const h = res.headers();
    return { answer: { status: res.status(), contentType: h['content-type'], contentLength: h['content-length'], body: await res.text().catch(() => '') } };
  } catch (e) {
    return { failure: String(e).split('\n')[0]!.slice(0, 160) };
  }
}

interface Job<R> {
  probe: Probe<R>;
  /** `base` or a variant. */
  shape: 'base' | Variant;
  who: 'owner' | 'attacker';
  marker: string;
  raw: RawRequest;
  attempt?: Attempt;
}

/** A marker no other marker contains (writes put it where the owner reads it back). */
const markerOf = (who: 'owner' | 'attacker', probe: number, shape: number) => `m_${who === 'owner' ? 'o' : 'a'}_${probe}_${shape}_e`;

export async function runAudit<R extends ExperimentRefs | ModelRefs>(opts: {
  probes: Probe<R>[];
  refs: R;
  owner: APIRequestContext;
  attacker: APIRequestContext;
  baseUrl: string;
  hides404?: boolean;
  concurrency?: number;
}): Promise<{ base: BaseResult[]; shapes: ShapeRun[]; timing: string }> {
  const { probes, refs, owner, attacker, baseUrl } = opts;
  const n = opts.concurrency ?? 6;
  const labels = new Set(probes.map((p) => p.route));
  const ownerSend = (req: ProbeRequest) => send(owner, baseUrl, rawOf(req));
  // an explicit /ajax-api twin of another probe (the same handler): the parsing shapes only — the path, method
  // and routing shapes are the /api probe's, where the same rule table answers them
  const twinOfProbe = (p: Probe<R>) => p.route.includes(' /ajax-api/') && labels.has(twinLabel(p.route)!);
  const routingShapes: Variant[] = ['percent-encoded', 'double-slash', 'trailing-slash', 'case-changed', 'head', 'options', 'method-override'];
  const job = (probe: Probe<R>, i: number, shape: 'base' | Variant, who: 'owner' | 'attacker'): Job<R> | undefined => {
    if (shape !== 'base' && twinOfProbe(probe) && routingShapes.includes(shape)) return undefined;
    const k = shape === 'base' ? 0 : VARIANTS.indexOf(shape) + 1;
    const marker = markerOf(who, i, k);
    const req = probe.build(refs, marker);
    const raw = shape === 'base' ? rawOf(req) : variantOf(req, shape, !!twinLabel(probe.route) && labels.has(twinLabel(probe.route)!));
    return raw ? { probe, shape, who, marker, raw } : undefined;
  };
  const sendJob = async (j: Job<R>) => void (j.attempt = await send(j.who === 'owner' ? owner : attacker, baseUrl, j.raw));
  /** The owner's reads of the states the writes of `jobs` change, then what each write did. */
  const settle = async (jobs: Job<R>[]) => {
    const keys = [...new Set(jobs.map((j) => j.probe.write?.state).filter((k): k is StateKey => !!k))];
    const states = new Map(await pool(keys, n, async (k) => [k, (await ownerSend(stateRequest(k, refs))).answer?.body ?? ''] as const));
    for (const j of jobs) {
      const w = j.probe.write;
      if (w && j.attempt) {
        const present = (states.get(w.state) ?? '').includes(j.marker);
        j.attempt.changed = w.removes ? !present : present;
      } else if (j.attempt?.answer) {
        const markers = j.probe.markers?.(refs) ?? {};
        j.attempt.seen = Object.entries(markers).filter(([, v]) => j.attempt!.answer!.body.includes(v)).map(([k]) => k);
      }
    }
  };

  /** Sends the jobs (a few at a time; those overwriting one value one by one, each read back at once) and settles them. */
  const execute = async (jobs: Job<R>[]) => {
    const parallel = jobs.filter((j) => !j.probe.write?.sequential);
    await pool(parallel.filter((j) => j.probe.write?.prepare), n, (j) => j.probe.write!.prepare!(ownerSend, refs, j.marker));
    await pool(parallel, n, sendJob);
    for (const j of jobs.filter((x) => x.probe.write?.sequential)) {
      await j.probe.write!.prepare?.(ownerSend, refs, j.marker);
      await sendJob(j);
      await settle([j]);
    }
    await settle(parallel);
  };

  const t0 = Date.now();
  const controls = probes.map((p, i) => job(p, i, 'base', 'owner')!);
  // the controls first: an attacker's write must not race the owner's read of the same state
  await execute(controls);
  const attacks = probes.map((p, i) => job(p, i, 'base', 'attacker')!);
  const variants = probes.flatMap((p, i) => VARIANTS.map((v) => job(p, i, v, 'attacker')).filter((j): j is Job<R> => !!j));
  const t1 = Date.now();
  await execute([...attacks, ...variants]);
  const t2 = Date.now();

  const kind = (p: Probe<R>) => (p.write ? 'write' : 'read') as 'read' | 'write';
  const base = probes.map((p, i) => ({ route: p.route, ...probeOutcome({ kind: kind(p), control: controls[i]!.attempt!, attacker: attacks[i]!.attempt!, hides404: opts.hides404 }) }));
  const judged = variants.map((j) => {
    const b = base[probes.indexOf(j.probe)]!.outcome;
    return { j, b, r: shapeOutcome({ kind: kind(j.probe), variant: j.shape, base: b, attacker: j.attempt!, hides404: opts.hides404 }) };
  });
  // the shapes the attacker got an unexplained answer for: does the owner's same request work?
  const asked = judged.filter((x) => x.r.outcome === 'needs-control').map((x) => ({ x, control: job(x.j.probe, probes.indexOf(x.j.probe), x.j.shape as Variant, 'owner')! }));
  if (asked.length) {
    await execute(asked.map((a) => a.control));
    for (const a of asked) a.x.r = shapeOutcome({ kind: kind(a.x.j.probe), variant: a.x.j.shape, base: a.x.b, attacker: a.x.j.attempt!, control: a.control.attempt!, hides404: opts.hides404 });
  }
  const t3 = Date.now();
  const shapes = judged.map(({ j, b, r }) => ({ route: j.probe.route, variant: j.shape as Variant, outcome: r.outcome as Outcome, evidence: r.evidence, base: b }));
  const timing = `owner controls ${controls.length} requests ${((t1 - t0) / 1000).toFixed(1)} s, attacker ${attacks.length + variants.length} requests ${((t2 - t1) / 1000).toFixed(1)} s, owner shape controls ${asked.length} requests ${((t3 - t2) / 1000).toFixed(1)} s`;
  return { base, shapes, timing };
}
