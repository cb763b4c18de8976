import { evidenceOf, isRoutingMiss, type Answer, type Outcome } from './outcomes.ts';

/**
 * How one audit probe (a user with NO_PERMISSIONS trying another user's resource through one route) and each of
 * its request-shape variants are judged. Pure: the answers and what the owner saw go in, the outcome comes out.
 *
 * Every probe first runs as the owner (its positive control) and must see its marker or make its change: a probe
 * whose control fails is `broken` — a route that vanished or a request the server no longer understands must not
 * read as a refusal. Only 401 and 403 (and 404 where the generation declares it hides resources) are refusals;
 * 400, other 404s, 5xx and exceptions are `error`, reported with the answer. Writes are judged by what the owner
 * reads afterwards, not by the status code.
 */

export type ProbeOutcome = 'denied' | 'filtered' | 'leaked' | 'broken' | 'error';

export interface Attempt {
  /** The answer, or the exception's first line when the request failed. */
  answer?: Answer;
  failure?: string;
  /** Reads: the names of the markers found in the answer. */
  seen?: string[];
  /** Writes: whether the victim's resource shows the change afterwards (read as its owner). */
  changed?: boolean;
}

export interface ProbeObservation {
  kind: 'read' | 'write';
  /** The owner's own request: reached its data (read) or made its change (write). */
  control: Attempt;
  attacker: Attempt;
  /** The generation answers 404 for a resource the user may not see (declared by its adapter). */
  hides404?: boolean;
}

const ok = (a?: Answer) => !!a && a.status >= 200 && a.status < 300;
const reached = (kind: 'read' | 'write', a: Attempt) => (kind === 'read' ? ok(a.answer) && (a.seen?.length ?? 0) > 0 : !!a.changed);
const describe = (a: Attempt) => (a.answer ? evidenceOf(a.answer, 80) : `request failed: ${a.failure ?? 'no answer'}`);

/** The base shape of a probe: `denied` | `filtered` (answered without the data / nothing changed) | `leaked` | `broken` | `error`. */
export function probeOutcome(o: ProbeObservation): { outcome: ProbeOutcome; evidence: string } {
  if (!reached(o.kind, o.control)) {
    return { outcome: 'broken', evidence: `positive control failed: the owner's own request ${o.kind === 'read' ? 'did not see the data' : 'did not make its change'} (${describe(o.control)})` };
  }
  const a = o.attacker;
  if (!a.answer) return { outcome: 'error', evidence: describe(a) };
  if (o.kind === 'read' && ok(a.answer) && (a.seen?.length ?? 0) > 0) return { outcome: 'leaked', evidence: `HTTP ${a.answer.status}: response contains ${a.seen!.join(', ')}` };
  if (o.kind === 'write' && a.changed) return { outcome: 'leaked', evidence: `HTTP ${a.answer.status}: the owner reads the change afterwards` };
  const s = a.answer.status;
  if (s === 401 || s === 403 || (s === 404 && o.hides404)) return { outcome: 'denied', evidence: describe(a) };
  if (ok(a.answer)) return { outcome: 'filtered', evidence: o.kind === 'read' ? `HTTP ${s}: none of the markers in the answer (${a.answer.body.length} bytes)` : `HTTP ${s}: the owner reads no change afterwards` };
  return { outcome: 'error', evidence: `${describe(a)} (the owner's request succeeds)` };
}

export interface ShapeObservation {
  kind: 'read' | 'write';
  variant: string;
  /** The base probe's outcome for the attacker (a HEAD answered where GET is denied skipped the authorisation). */
  base: ProbeOutcome;
  attacker: Attempt;
  /** The same variant as the owner: asked only when the attacker got neither a refusal nor an answer without data. */
  control?: Attempt;
  hides404?: boolean;
}

/**
 * A variant's outcome: `accepted` when the attacker saw the data or made the change (or, for HEAD, was answered
 * where GET is denied); `refused` on 401/403, on an answer without the data, or when the server does not serve the
 * shape at all (the owner's own request with it fails too); `error` when the attacker got another answer while the
 * owner's same request works. `needs-control`: ask the owner.
 */
export function shapeOutcome(o: ShapeObservation): { outcome: Outcome | 'needs-control'; evidence: string } {
  const a = o.attacker;
  if (!a.answer) return { outcome: 'error', evidence: describe(a) };
  const s = a.answer.status;
  if (o.kind === 'read' && ok(a.answer) && (a.seen?.length ?? 0) > 0) return { outcome: 'accepted', evidence: `HTTP ${s}: response contains ${a.seen!.join(', ')}` };
  if (o.kind === 'write' && a.changed) return { outcome: 'accepted', evidence: `HTTP ${s}: the owner reads the change afterwards` };
  if (o.variant === 'head' && ok(a.answer) && o.base === 'denied') return { outcome: 'accepted', evidence: `HTTP ${s} to HEAD where GET is refused: the handler ran without the authorisation check (Content-Length ${a.answer.contentLength ?? '?'})` };
  if (s === 401 || s === 403 || (s === 404 && o.hides404)) return { outcome: 'refused', evidence: describe(a) };
  if (ok(a.answer) || (s >= 300 && s < 400)) return { outcome: 'refused', evidence: `HTTP ${s}: ${o.kind === 'read' ? 'no data in the answer' : 'the victim\'s resource unchanged'}` };
  // the router's own 404/405: no route serves this shape, for anyone (no handler ran)
  if (isRoutingMiss(a.answer)) return { outcome: 'refused', evidence: `${describe(a)}; the shape is not served: the router has no route for it` };
  if (!o.control) return { outcome: 'needs-control', evidence: describe(a) };
  if (!reached(o.kind, o.control)) return { outcome: 'refused', evidence: `${describe(a)}; the shape is not served: the owner's own request gets ${describe(o.control)}` };
  return { outcome: 'error', evidence: `${describe(a)} while the owner's same request works (${describe(o.control)})` };
}
