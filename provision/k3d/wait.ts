import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from '../errors.ts';
import { httpsStatus } from '../local/components/proxy.ts';
import { conditionState, rolloutState, type Kube } from './kube.ts';
import type { WaitTarget } from './steps.ts';

const POLL_MS = 2000;

/** Polls `check` until it reports done or `seconds` pass; returns the last summary either way. */
export async function poll(check: () => Promise<{ done: boolean; summary: string }>, seconds: number, intervalMs = POLL_MS): Promise<{ done: boolean; summary: string }> {
  const deadline = Date.now() + seconds * 1000;
  let last = { done: false, summary: 'not checked yet' };
  for (;;) {
    try {
      last = await check();
    } catch (e) {
      last = { done: false, summary: `error: ${(e as Error).message.split('\n')[0]}` };
    }
    if (last.done || Date.now() >= deadline) return last;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

function name(w: WaitTarget): string {
  if (w.for === 'https') return `GET ${w.url}`;
  return `${w.kind} ${w.namespace ? `${w.namespace}/` : ''}${w.name}`;
}

/**
 * Waits for one object (rollout or condition) or URL, at most its own timeout. A timeout throws naming the
 * object, its last status, its recent events and the log tail of its newest pod.
 */
export async function waitFor(w: WaitTarget, kube: () => Kube): Promise<void> {
  if (w.for === 'https') {
    const r = await poll(async () => {
      const status = await httpsStatus(w.url, w.caCert);
      return { done: status === w.status, summary: `answered ${status}` };
    }, w.timeoutSeconds);
    if (!r.done) throw new HarnessError(`${name(w)} did not answer ${w.status} within ${w.timeoutSeconds}s (last: ${r.summary})`);
    return;
  }
  const r = await poll(async () => {
    const o = await kube().get(w);
    return w.for === 'rollout' ? rolloutState(o) : conditionState(o, w.condition);
  }, w.timeoutSeconds);
  if (r.done) return;
  const what = w.for === 'rollout' ? 'did not finish its rollout' : `did not reach ${w.condition}=True`;
  const details: string[] = [];
  if (w.namespace) {
    const events = await kube().events(w.namespace, w.name).catch((e: Error) => [`(events unavailable: ${e.message.split('\n')[0]})`]);
    details.push(`Recent events:\n${events.map((e) => `  ${e}`).join('\n') || '  (none)'}`);
    if (w.pods) details.push(`Log tail of ${(await kube().logTail(w.namespace, w.pods).catch((e: Error) => `(unavailable: ${e.message.split('\n')[0]})`)).replace(/\n/g, '\n  ')}`);
  }
  throw new HarnessError(`${name(w)} ${what} within ${w.timeoutSeconds}s (last: ${r.summary})\n${details.join('\n')}`);
}
