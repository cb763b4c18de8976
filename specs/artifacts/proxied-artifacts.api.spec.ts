import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { APIResponse } from '@playwright/test';
import { test, expect, type PythonResult } from '../support/fixtures.ts';
import { requireCapability } from '../support/claims.ts';
import { unique } from '../support/mlflow-api.ts';
import { expectUnauthenticated, type PluginAdapter } from '../support/plugin.ts';
import { s3Client } from '../support/stack-access.ts';
import { persona } from '../support/target.ts';

interface Roundtrip {
  run_id: string; experiment_id: string; artifact_uri: string; downloaded: string;
  aws_env: string[]; boto3_has_credentials: boolean;
}

type RunPython = (script: string, env: Record<string, string>, args?: string[]) => Promise<PythonResult>;

/**
 * Writes a payload (a text marker followed by random binary bytes) into the test's folder and has the Python
 * client, which holds no S3 credentials, log it to a new run and download it back.
 * Returns the payload, the script's report and the artifact's path under the proxied-artifact root.
 */
async function logPayload(python: RunPython, email: string, token: string) {
  const dir = test.info().outputDir;
  mkdirSync(dir, { recursive: true });
  const marker = unique('c03-marker');
  const payload = Buffer.concat([Buffer.from(`${marker}\n`), randomBytes(48 * 1024)]);
  writeFileSync(join(dir, 'payload.bin'), payload);
  const out = await python('artifact_roundtrip.py', { MLFLOW_TRACKING_USERNAME: email, MLFLOW_TRACKING_PASSWORD: token }, [unique('artifacts'), 'payload.bin']);
  expect(out.exitCode, out.stderr).toBe(0);
  const json = out.json as unknown as Roundtrip;
  // The client had no way to reach the bucket itself.
  expect(json.aws_env).toEqual([]);
  expect(json.boto3_has_credentials).toBe(false);
  // Proxied artifacts: the run's artifact URI is the server's mlflow-artifacts: scheme, not s3://.
  expect(json.artifact_uri).toBe(`mlflow-artifacts:/${json.experiment_id}/${json.run_id}/artifacts`);
  const path = `${json.artifact_uri.replace(/^mlflow-artifacts:\//, '')}/payload.bin`;
  return { marker, payload, json, path };
}

test('[C03] an artifact logged by a client without S3 credentials lands byte-identical in the bucket `mlflow`', async ({ target, python, tokenOf }) => {
  requireCapability(target, 'bucket', 'reads the object straight from the S3 API');
  const { payload, json, path } = await logPayload(python, persona(target, 'user1').email, tokenOf('user1'));

  // The artifact destination is s3://mlflow/ (root): the key is <experiment_id>/<run_id>/artifacts/<file>.
  const { s3, bucket } = s3Client(target);
  expect(bucket).toBe('mlflow');
  try {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${json.experiment_id}/${json.run_id}/` }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([path]);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: path }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    expect(bytes.length).toBe(payload.length);
    expect(bytes.equals(payload)).toBe(true);
  } finally {
    s3.destroy();
  }
});

test('[C03] the artifact downloads back byte-identical through MLflow (Python client and REST); without credentials the REST route gives no data', async ({ target, python, tokenOf, basicAs, request, plugin }) => {
  const { marker, payload, json, path } = await logPayload(python, persona(target, 'user1').email, tokenOf('user1'));

  // (b) mlflow.artifacts.download_artifacts, through the server.
  expect(json.downloaded).toBe(join(test.info().outputDir, 'downloaded', 'payload.bin'));
  expect(readFileSync(json.downloaded).equals(payload)).toBe(true);

  // (b) REST download of the proxied artifact with Basic auth.
  const url = `${target.mlflowUrl}/api/2.0/mlflow-artifacts/artifacts/${path}`;
  const viaRest = await request.get(url, { headers: basicAs('user1') });
  expect(viaRest.status()).toBe(200);
  const body = await viaRest.body();
  expect(body.length).toBe(payload.length);
  expect(body.equals(payload)).toBe(true);

  // (c) The same request without credentials.
  const anonymous = await request.get(url, { maxRedirects: 0 });
  await expectNoData(anonymous, marker, plugin);
});

/** The plugin's answer to a request without credentials (5.x: its login page; 6.x+: 401), none of the artifact's bytes. */
async function expectNoData(res: APIResponse, marker: string, plugin: PluginAdapter): Promise<void> {
  await expectUnauthenticated(res, plugin);
  expect(await res.text()).not.toContain(marker);
  expect(res.headers()['content-disposition'] ?? '').not.toContain('payload.bin');
}
