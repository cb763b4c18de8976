import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { redact, writeDiagnostics } from '../../provision/diagnostics.ts';

test('diagnostics: log tails and configuration with secrets redacted, and a dead component means the infrastructure failed', () => {
  const state = mkdtempSync(join(tmpdir(), 'state-'));
  mkdirSync(join(state, 'logs'));
  const log = join(state, 'logs', 'mlflow.log');
  writeFileSync(log, 'started\nclient secret is SuperSecretValue42\n');
  const dead = { pid: 999_999, group: true, ports: [1], log, command: 'mlflow server' };
  writeFileSync(join(state, 'ledger.json'), JSON.stringify({ fingerprint: 'x', createdAt: '', owner: 'test', components: { mlflow: dead } }));
  writeFileSync(join(state, 'description.json'), JSON.stringify({ note: 'SuperSecretValue42' }));
  const out = join(state, 'diag');
  const secrets = [{ name: 'secrets.clientSecret', value: 'SuperSecretValue42' }];
  const d = writeDiagnostics(state, out, join(state, 'no-results'), secrets);
  expect(d.failed).toBe('infrastructure');
  expect(d.components.mlflow).toMatchObject({ running: false });
  expect(readFileSync(join(out, 'logs', 'mlflow.log'), 'utf8')).toContain('client secret is «secrets.clientSecret»');
  expect(readFileSync(join(out, 'description.json'), 'utf8')).not.toContain('SuperSecretValue42');
  expect(existsSync(join(out, 'diagnosis.json'))).toBe(true);
  expect(redact('a SuperSecretValue42 b', secrets)).toBe('a «secrets.clientSecret» b');
});
