import { test, expect } from '@playwright/test';
import { Control } from '../../provision/scenarios/schema.ts';
import { judgeControl, runControl, type ClaimRun } from '../../provision/scenarios/run-controls.ts';
import type { FaultableStack } from '../../provision/scenarios/phases.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const control = (spec: Record<string, unknown>) => Control.parse({ apiVersion: 'harness/v1', kind: 'Control', metadata: { name: 'x', title: 'x' }, spec: { description: 'x', fault: {}, ...spec } });
const runs = (entries: [string, string, string[]?][]) => new Map<string, ClaimRun>(entries.map(([id, verdict, failures]) => [id, { verdict, failures: failures ?? [] }]));
const s3 = control({ expectRed: ['C03', 'C24'], failsWith: [{ error: 'SignatureDoesNotMatch' }, { claims: ['C24'], log: { component: 'mlflow', pattern: 'AccessDenied' } }] });

test('a control is caught only when each claim was green on the baseline and is red for its named reason', () => {
  const baseline = runs([['C03', 'passed'], ['C24', 'differs']]);
  const fault = runs([['C03', 'failed', ['Error: exit 1\nbotocore.exceptions.ClientError: An error occurred (SignatureDoesNotMatch)']], ['C24', 'failed', ['Test timeout of 60000ms exceeded.']]]);
  // C24 failed, but by a timeout: not the reason the control names, unless the log shows it
  const wrong = judgeControl(s3, baseline, fault, { mlflow: 'INFO nothing to see' });
  expect(wrong.status).toBe('missed');
  expect(wrong.claims.map((c) => [c.claim, c.caught])).toEqual([['C03', true], ['C24', false]]);
  expect(wrong.claims[1]!.why).toContain('red, but not for the named reason');
  expect(wrong.claims[1]!.why).toContain('Test timeout of 60000ms exceeded.');
  // the log under the fault names the reason
  const right = judgeControl(s3, baseline, fault, { mlflow: 'botocore ... AccessDenied ...' });
  expect(right.status).toBe('caught');
  expect(right.claims[1]!.matched).toBe('mlflow log /AccessDenied/');
});

test('a claim already red on the healthy baseline, or not red under the fault, is not caught', () => {
  const fault = runs([['C03', 'failed', ['SignatureDoesNotMatch']], ['C24', 'failed', ['SignatureDoesNotMatch']]]);
  const redBefore = judgeControl(s3, runs([['C03', 'failed'], ['C24', 'passed']]), fault, {});
  expect(redBefore.claims[0]).toMatchObject({ caught: false, baseline: 'failed', why: expect.stringContaining('not green on the healthy baseline') });
  const notRed = judgeControl(s3, runs([['C03', 'passed'], ['C24', 'passed']]), runs([['C03', 'passed'], ['C24', 'failed', ['SignatureDoesNotMatch']]]), {});
  expect(notRed.claims[0]).toMatchObject({ caught: false, why: 'not red under the fault (passed)' });
  expect(notRed.caught).toBe(false);
});

test('a tolerated fault must leave its claims green on the baseline and under the fault', () => {
  const tolerated = control({ expectGreen: ['C06', 'C11'] });
  expect(judgeControl(tolerated, runs([['C06', 'passed'], ['C11', 'passed']]), runs([['C06', 'passed'], ['C11', 'differs']]), {}).status).toBe('caught');
  expect(judgeControl(tolerated, runs([['C06', 'passed'], ['C11', 'passed']]), runs([['C06', 'failed'], ['C11', 'passed']]), {}).notGreen).toEqual(['C06']);
});

test('every expected red claim needs a reason; a reason names only claims of expectRed', () => {
  expect(() => control({ expectRed: ['C03'] })).toThrow(/no reason names what C03 must fail with/);
  expect(() => control({ expectRed: ['C03'], failsWith: [{ claims: ['C04'], error: 'x.x' }] })).toThrow(/C04 is not in expectRed/);
  expect(() => control({ expectRed: ['C03'], failsWith: [{ error: 'a(b' }] })).toThrow(/valid regular expression/);
  expect(() => control({ expectRed: ['C03'], failsWith: [{ error: 'abc', log: { component: 'mlflow', pattern: 'abc' } }] })).toThrow(/either `error` or `log`/);
});

test('a control whose setup fails on the healthy stack is not evaluable: no fault is applied, nothing is counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'control-'));
  const file = join(dir, 'x.yaml');
  writeFileSync(file, 'apiVersion: harness/v1\nkind: Control\nmetadata: { name: x, title: x }\nspec:\n  description: x\n  fault: { stop: [postgres] }\n  expectRed: [C02]\n  failsWith: [{ error: ECONNREFUSED }]\n');
  const applied: string[] = [];
  const stack = {
    descriptor: { logs: {} },
    playwright: async (args: string[]) => (args.includes('--project=setup') ? 1 : 0),
    apply: async (label: string) => void applied.push(label),
    logOffsets: () => ({}),
  } as unknown as FaultableStack;
  const quiet = process.env.HARNESS_QUIET;
  process.env.HARNESS_QUIET = '1';
  try {
    const r = await runControl(file, stack, runs([['C02', 'passed']]), { lifecycle: false });
    expect(r).toMatchObject({ status: 'not-evaluable', caught: false, claims: [] });
    expect(r.notEvaluable).toContain('the setup project failed');
    expect(applied).toEqual([]);
  } finally {
    if (quiet === undefined) delete process.env.HARNESS_QUIET;
    else process.env.HARNESS_QUIET = quiet;
  }
});
