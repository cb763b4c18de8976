import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { overrideProblems, StackOverrides } from '../config/overrides.ts';
import type { StackDescription } from '../config/stack.ts';
import { PinSetFile } from '../config/pin-sets.ts';
import { HarnessError } from '../errors.ts';
import { projectRoot } from '../paths.ts';

const COMPONENT = z.enum(['postgres', 's3', 'keycloak', 'proxy', 'mlflow']);
const PERSONA = z.string().describe('persona key: admin, user1, user2, outsider');

/** One observable expectation: a symptom of a fault, or a sign of recovery. */
export const Expectation = z.union([
  z.object({
    login: z.object({
      persona: PERSONA,
      loggedIn: z.boolean(),
      /** Texts the plugin shows on its login page after /callback (exact items). */
      errors: z.array(z.string()).optional(),
      /** Text Keycloak shows when it does not send the browser back. */
      keycloakPageContains: z.string().optional(),
    }).strict(),
  }).strict(),
  z.object({
    http: z.object({
      /** `mlflow` (through the proxy) or `mlflow-internal` (the server itself, capability needed). */
      base: z.enum(['mlflow', 'mlflow-internal', 'keycloak']).default('mlflow'),
      path: z.string().startsWith('/'),
      method: z.enum(['GET', 'POST', 'PATCH', 'DELETE']).default('GET'),
      /** Send the persona's Basic credentials (its e-mail and an access token). */
      as: PERSONA.optional(),
      headers: z.record(z.string(), z.string()).optional(),
      json: z.unknown().optional(),
      status: z.number().int().optional(),
      bodyContains: z.string().optional(),
      bodyNotContains: z.string().optional(),
    }).strict(),
  }).strict(),
  z.object({
    log: z.object({
      component: COMPONENT,
      /** Must appear in what the component logged during this phase. */
      contains: z.string().optional(),
      notContains: z.string().optional(),
    }).strict(),
  }).strict(),
  z.object({
    python: z.object({
      /** A script from fixtures/python, run with the pinned client as the persona (Basic: e-mail + token). */
      script: z.string(),
      as: PERSONA,
      args: z.array(z.string()).default([]),
      succeeds: z.boolean(),
      outputContains: z.string().optional(),
    }).strict(),
  }).strict(),
]);
export type Expectation = z.infer<typeof Expectation>;

export const Fault = z.object({
  overrides: StackOverrides.default({}),
  /** Components stopped once the configuration is applied. */
  stop: z.array(COMPONENT).default([]),
  /** Components stopped and started again (their state survives: data, sessions on disk). */
  restart: z.array(COMPONENT).default([]),
  /** Components paused (SIGSTOP): connections are accepted but never answered, as a hung server; resumed after. */
  freeze: z.array(COMPONENT).default([]),
  /**
   * Components slowed down: each runs `percent` of every 100 ms and is paused (SIGSTOP) for the rest, as a server
   * starved of CPU; it answers, late. Left running at full speed afterwards.
   */
  slow: z.array(z.object({ component: COMPONENT, percent: z.number().int().min(1).max(99).describe('share of the time the component runs') }).strict()).default([]),
}).strict();

const Metadata = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string(),
}).strict();

export const Scenario = z.object({
  $schema: z.string().optional(),
  apiVersion: z.literal('harness/v1'),
  kind: z.literal('Scenario'),
  metadata: Metadata,
  spec: z.object({
    /** The seed section the scenario reproduces. */
    seedSection: z.string(),
    description: z.string(),
    claims: z.array(z.string().regex(/^C\d{2}$/)).default([]),
    fault: Fault,
    symptom: z.array(Expectation).min(1),
    fix: z.object({
      description: z.string(),
      /** The configuration that cures the fault (default: the stack's own). */
      overrides: StackOverrides.default({}),
      /** Stopped components to start again. */
      start: z.array(COMPONENT).default([]),
    }).strict(),
    recovery: z.array(Expectation).min(1),
  }).strict(),
}).strict();
export type Scenario = z.infer<typeof Scenario>;

/** Why a claim is expected to be red under a fault: its failing checks' error, or a component's log. */
export const FailReason = z.object({
  /** The claims this reason is for (default: every claim of expectRed). */
  claims: z.array(z.string().regex(/^C\d{2}$/)).optional(),
  /** A regular expression (case-insensitive) a failing check's error message or evidence matches: a status, a message. */
  error: z.string().min(3).refine((r) => isRegex(r), 'a valid regular expression').optional(),
  /** A regular expression the component's log matches in what it logged while the fault was applied. */
  log: z.object({ component: COMPONENT, pattern: z.string().min(3).refine((r) => isRegex(r), 'a valid regular expression') }).strict().optional(),
}).strict().refine((r) => !!r.error !== !!r.log, { message: 'give either `error` or `log`' });
export type FailReason = z.infer<typeof FailReason>;

function isRegex(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}

export const Control = z.object({
  $schema: z.string().optional(),
  apiVersion: z.literal('harness/v1'),
  kind: z.literal('Control'),
  metadata: Metadata,
  spec: z.object({
    description: z.string(),
    fault: Fault,
    /** Claims whose checks must turn red under the fault. Omit for a user's own fault: all checks run. */
    expectRed: z.array(z.string().regex(/^C\d{2}$/)).optional(),
    /**
     * What the claims of expectRed must fail with: a claim counts as caught only when it was green on the batch's
     * healthy baseline and is red under the fault for one of its reasons. Each reason names the claims it is for
     * (default: all of expectRed) and either a pattern a failing check's error or evidence matches, or a pattern the
     * component's log shows while the fault is applied. Every claim of expectRed needs one.
     */
    failsWith: z.array(FailReason).optional(),
    /**
     * Claims whose checks must stay green under the fault: a fault this deployment tolerates. The control is
     * caught (it fails) when one of them turns red — e.g. a new plugin version that starts to depend on what
     * the fault removes.
     */
    expectGreen: z.array(z.string().regex(/^C\d{2}$/)).optional(),
    /** Part of the subset `.ci/run` runs. */
    ci: z.boolean().default(false),
  }).strict().superRefine((spec, ctx) => {
    for (const claim of spec.expectRed ?? []) {
      if (!(spec.failsWith ?? []).some((r) => !r.claims || r.claims.includes(claim))) {
        ctx.addIssue({ code: 'custom', path: ['failsWith'], message: `no reason names what ${claim} must fail with (an \`error\` or \`log\` pattern)` });
      }
    }
    for (const [i, r] of (spec.failsWith ?? []).entries()) {
      for (const claim of r.claims ?? []) {
        if (!(spec.expectRed ?? []).includes(claim)) ctx.addIssue({ code: 'custom', path: ['failsWith', i, 'claims'], message: `${claim} is not in expectRed` });
      }
    }
  }),
}).strict();
export type Control = z.infer<typeof Control>;

/** Reads and validates a scenario or control file against the schema and the stack description. */
export function loadFaultFile<T extends Scenario | Control>(file: string, schema: z.ZodType<T>, desc: StackDescription): T {
  const doc = loadYaml(file, schema);
  const problems = doc.kind === 'Scenario'
    ? [...overrideProblems(desc, doc.spec.fault.overrides, 'spec.fault.overrides'), ...overrideProblems(desc, doc.spec.fix.overrides, 'spec.fix.overrides')]
    : overrideProblems(desc, doc.spec.fault.overrides, 'spec.fault.overrides');
  if (problems.length) throw new HarnessError(`${file}: ${problems[0]}`, 'see scenarios/README.md for the format');
  return doc;
}

/** Reads and validates a YAML file; errors name the file and the first problem's path. */
export function loadYaml<T>(file: string, schema: z.ZodType<T>): T {
  if (!existsSync(file)) throw new HarnessError(`No such file: ${file}`);
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HarnessError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new HarnessError(`${file}: ${firstProblem(r.error.issues)}`, 'see scenarios/README.md for the format');
  return r.data;
}

/**
 * The problem to tell first: a misspelt key (with the missing key it was probably meant to be) before what its
 * absence makes missing; otherwise the first issue.
 */
function firstProblem(issues: z.core.$ZodIssue[]): string {
  const at = (path: PropertyKey[]) => path.map(String).join('.') || '(root)';
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    const parent = at(unknown.path);
    const missing = issues.filter((i) => i.code === 'invalid_type' && i.path.length === unknown.path.length + 1 && at(i.path.slice(0, -1)) === parent).map((i) => String(i.path[i.path.length - 1]));
    return `${parent}: unknown key${unknown.keys.length > 1 ? 's' : ''} ${unknown.keys.map((k) => `\`${k}\``).join(', ')}${missing.length ? ` (did you mean ${missing.map((k) => `\`${k}\``).join(', ')}?)` : ''}`;
  }
  const i = issues[0]!;
  return `${at(i.path)}: ${i.message}`;
}

/** Resolves `<id>` (a file in the folder) or a path to a YAML file. */
export function resolveYaml(folder: 'scenarios' | 'controls', idOrPath: string): string {
  if (idOrPath.endsWith('.yaml') || idOrPath.endsWith('.yml') || idOrPath.includes('/')) return idOrPath;
  const file = join(projectRoot, folder, `${idOrPath}.yaml`);
  if (!existsSync(file)) {
    throw new HarnessError(`No ${folder.slice(0, -1)} "${idOrPath}"`, `known: ${listYaml(folder).map((f) => basename(f, '.yaml')).join(', ')}`);
  }
  return file;
}

export function listYaml(folder: 'scenarios' | 'controls'): string[] {
  const dir = join(projectRoot, folder);
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));
}

/** JSON Schemas for editors (`# yaml-language-server: $schema=...`). */
export function jsonSchemas(): { scenario: unknown; control: unknown; pinSet: unknown } {
  return { scenario: z.toJSONSchema(Scenario, { io: 'input' }), control: z.toJSONSchema(Control, { io: 'input' }), pinSet: z.toJSONSchema(PinSetFile, { io: 'input' }) };
}

export interface InvalidFile {
  file: string;
  error: string;
}

/**
 * Resolves and validates the files a batch run was given. A file with a mistake is reported (one line naming
 * the file, the key and what is allowed) and left out; the others run.
 */
export function validFaultFiles<T extends Scenario | Control>(folder: 'scenarios' | 'controls', given: string[], schema: z.ZodType<T>, desc: StackDescription) {
  const valid: { file: string; doc: T }[] = [];
  const invalid: InvalidFile[] = [];
  for (const g of given) {
    try {
      const file = resolveYaml(folder, g);
      valid.push({ file, doc: loadFaultFile(file, schema, desc) });
    } catch (e) {
      if (!(e instanceof HarnessError)) throw e;
      invalid.push({ file: g, error: e.line() });
    }
  }
  return { valid, invalid };
}
