import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { applyOverrides, fingerprints, StackOverrides } from '../../provision/config/overrides.ts';
import { loadHarnessEnv } from '../../provision/config/env.ts';
import { loadPinSet } from '../../provision/config/pin-sets.ts';
import { describeStack } from '../../provision/config/stack.ts';
import { projectRoot } from '../../provision/paths.ts';
import { claimsWithChecks } from '../../provision/scenarios/run-controls.ts';
import { Control, jsonSchemas, listYaml, loadYaml, Scenario, validFaultFiles } from '../../provision/scenarios/schema.ts';
import { HarnessError } from '../../provision/errors.ts';

const desc = () => describeStack(loadHarnessEnv({}, join(projectRoot, 'no-such-file')), loadPinSet('seed'));

test('every scenario and control file validates', () => {
  expect(listYaml('scenarios').length).toBeGreaterThanOrEqual(9);
  for (const f of listYaml('scenarios')) expect(loadYaml(f, Scenario).metadata.name).toBe(f.split('/').pop()!.replace('.yaml', ''));
  for (const f of listYaml('controls')) expect(loadYaml(f, Control).metadata.name).toBe(f.split('/').pop()!.replace('.yaml', ''));
});

test('the committed JSON Schemas match the zod schemas (run `npm run scenarios -- --schemas`)', () => {
  const { scenario, control, pinSet } = jsonSchemas();
  expect(JSON.parse(readFileSync(join(projectRoot, 'image', 'pin-sets', 'pin-set.schema.json'), 'utf8'))).toEqual(pinSet);
  expect(JSON.parse(readFileSync(join(projectRoot, 'scenarios', 'scenario.schema.json'), 'utf8'))).toEqual(scenario);
  expect(JSON.parse(readFileSync(join(projectRoot, 'controls', 'control.schema.json'), 'utf8'))).toEqual(control);
});

test('every claim that has a check is expected red by at least one control', () => {
  const covered = new Set(listYaml('controls').flatMap((f) => loadYaml(f, Control).spec.expectRed ?? []));
  expect(claimsWithChecks().filter((c) => !covered.has(c))).toEqual([]);
});

test('a fault is an override of the description and changes only its part of the fingerprint', () => {
  const base = desc();
  const faulted = applyOverrides(base, StackOverrides.parse({ mlflow: { env: { SESSION_TYPE: 'filesystem', OIDC_SCOPE: null } } }));
  expect(faulted.mlflow.env.SESSION_TYPE).toBe('filesystem');
  expect(faulted.mlflow.env).not.toHaveProperty('OIDC_SCOPE');
  expect(base.mlflow.env.SESSION_TYPE).toBe('cachelib');
  const a = fingerprints(base);
  const b = fingerprints(faulted);
  expect(b.base).toBe(a.base);
  expect(b.realm).toBe(a.realm);
  expect(b.mlflow).not.toBe(a.mlflow);
  const realm = fingerprints(applyOverrides(base, { keycloak: { personaGroups: { user2: [] } } }));
  expect(realm.realm).not.toBe(a.realm);
  expect(realm.mlflow).toBe(a.mlflow);
});

test('a malformed scenario is refused naming the file and the field', () => {
  const file = join(projectRoot, 'test', 'unit', 'fixtures', 'bad-scenario.yaml');
  expect(() => loadYaml(file, Scenario)).toThrow(HarnessError);
  expect(() => loadYaml(file, Scenario)).toThrow(/bad-scenario\.yaml: spec\.fault\.overrides\.mlflow/);
});

test('an override naming an unknown persona is refused', () => {
  expect(() => applyOverrides(desc(), { keycloak: { personaGroups: { nobody: [] } } })).toThrow(/unknown persona "nobody"/);
});

test('a user\'s fault file with an unknown group is reported in one line and the batch keeps the valid files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faults-'));
  const bad = join(dir, 'bad-group.yaml');
  writeFileSync(bad, 'apiVersion: harness/v1\nkind: Control\nmetadata: { name: bad-group, title: x }\nspec:\n  description: x\n  fault:\n    overrides:\n      keycloak: { personaGroups: { outsider: [mlflow-usres] } }\n');
  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, 'apiVersion: harness/v1\nkind: Control\nmetadata: { name: typo, title: x }\nspec:\n  description: x\n  falut: {}\n');
  const { valid, invalid } = validFaultFiles('controls', [bad, typo, 'no-prometheus', 'no-such-control'], Control, desc());
  expect(valid.map((v) => v.doc.metadata.name)).toEqual(['no-prometheus']);
  expect(invalid.map((i) => i.error)).toEqual([
    expect.stringMatching(/bad-group\.yaml: spec\.fault\.overrides\.keycloak\.personaGroups\.outsider: unknown group "mlflow-usres" \(groups: mlflow-admins, mlflow-users\)/),
    expect.stringMatching(/typo\.yaml: spec: unknown key `falut` \(did you mean `fault`\?\)/),
    expect.stringMatching(/No control "no-such-control" — known: /),
  ]);
});

test('every symptom names what it fails with: a refused login its message, a failing client or request its output or the server\'s log', () => {
  for (const f of listYaml('scenarios')) {
    const s = loadYaml(f, Scenario);
    const logNamed = s.spec.symptom.some((e) => 'log' in e && !!e.log.contains);
    for (const e of s.spec.symptom) {
      const where = `${s.metadata.name}: ${JSON.stringify(e)}`;
      if ('python' in e && !e.python.succeeds) expect(!!e.python.outputContains || logNamed, where).toBe(true);
      if ('python' in e && !e.python.succeeds && s.metadata.name.startsWith('object-store')) expect(logNamed, `${where}: the object store's error in MLflow's log`).toBe(true);
      if ('http' in e && (e.http.status ?? 200) >= 400) expect(!!e.http.bodyContains || logNamed, where).toBe(true);
      if ('login' in e && !e.login.loggedIn) expect(!!e.login.errors?.length || !!e.login.keycloakPageContains, where).toBe(true);
    }
  }
});
