import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { today } from '../../provision/config/build-dates.ts';
import { latestLine, LatestResolution, layerOf, pickLatest, uncoveredLine, writeLatest, type LatestChecker } from '../../provision/config/latest.ts';
import { loadPinSet } from '../../provision/config/pin-sets.ts';
import { parseDockerfilePins } from '../../provision/config/pins.ts';
import { HarnessError } from '../../provision/errors.ts';
import { installFailure } from '../../provision/local/prereqs/installer.ts';
import { installPlan, lockFile } from '../../provision/local/prereqs/venv.ts';
import { ADAPTERS, inRange } from '../../provision/plugin/adapters.ts';
import { fileVersion, listReleases, type Release } from '../../provision/pypi/simple-index.ts';

/** A file of a JSON simple API page (PEP 691 + PEP 700). */
const file = (filename: string, uploaded: string, yanked: boolean | string = false) => ({
  filename, url: `https://files.example/${filename}`, hashes: { sha256: '0'.repeat(64) }, 'upload-time': uploaded, yanked,
});

/** What the stub index serves: releases, pre-releases, a yanked release, and old-style sdist names. */
const PAGES: Record<string, unknown> = {
  mlflow: {
    meta: { 'api-version': '1.1' },
    name: 'mlflow',
    files: [
      file('mlflow-3.17.2-py3-none-any.whl', '2026-10-21T02:08:42Z'), file('mlflow-3.17.2.tar.gz', '2026-10-21T02:08:45Z'),
      file('mlflow-3.18.0-py3-none-any.whl', '2026-11-03T23:46:06Z'), file('mlflow-3.18.0.tar.gz', '2026-11-03T23:46:09Z'),
      // every file yanked: not a release
      file('mlflow-3.18.1-py3-none-any.whl', '2026-11-20T10:00:00Z', 'broken tracing'), file('mlflow-3.18.1.tar.gz', '2026-11-20T10:00:01Z', true),
      // one file yanked, one not: still served
      file('mlflow-3.17.1-py3-none-any.whl', '2026-10-13T09:00:14Z', true), file('mlflow-3.17.1.tar.gz', '2026-10-13T09:00:18Z'),
      // pre-releases
      file('mlflow-3.19.0rc0-py3-none-any.whl', '2026-11-28T00:00:00Z'), file('mlflow-3.19.0.dev1.tar.gz', '2026-11-28T00:00:00Z'),
      file('mlflow-3.9.0-py3-none-any.whl', '2026-01-01T00:00:00Z'), file('mlflow-3.9.0.post1.tar.gz', '2026-01-02T00:00:00Z'),
      // a local version: not a release of the index's own
      file('mlflow-3.19.0+cpu-py3-none-any.whl', '2026-11-29T00:00:00Z'),
    ],
  },
  'mlflow-oidc-auth': {
    meta: { 'api-version': '1.1' },
    name: 'mlflow-oidc-auth',
    files: [
      file('mlflow-oidc-auth-5.6.1.tar.gz', '2025-11-01T00:00:00Z'),
      file('mlflow_oidc_auth-11.0.1-py3-none-any.whl', '2026-10-20T00:46:15Z'),
      file('mlflow_oidc_auth-11.0.2-py3-none-any.whl', '2026-10-21T01:02:26Z'), file('mlflow_oidc_auth-11.0.2.tar.gz', '2026-10-21T01:02:29Z'),
      file('mlflow_oidc_auth-12.0.0-py3-none-any.whl', '2026-12-01T08:00:00Z'),
      file('mlflow_oidc_auth-12.1.0b1-py3-none-any.whl', '2026-12-02T08:00:00Z'),
    ],
  },
};

let server: Server;
let index = '';
const served: string[] = [];

test.beforeAll(async () => {
  server = createServer((req, res) => {
    served.push(`${req.url} ${req.headers.accept}`);
    const name = /^\/simple\/([^/]+)\/$/.exec(req.url ?? '')?.[1];
    if (name === 'html-only') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      return;
    }
    const page = name ? PAGES[name] : undefined;
    if (!page) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end(JSON.stringify(page));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  index = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple/`;
});

test.afterAll(() => new Promise<void>((r) => server.close(() => r())));

const versions = (rs: Release[]) => rs.map((r) => r.version);
const covered = (v: string) => ADAPTERS.some((a) => inRange(v, a.range));

/** A checker standing in for uv: `base` and `layer` failures by version, with the installer's own words. */
function checker(fail: { base?: Record<string, string>; layer?: Record<string, string> } = {}, additions: { requirement: string; reason: string }[] = []) {
  const calls: string[] = [];
  const check: LatestChecker = {
    base: async (m) => (calls.push(`base ${m.version}`), fail.base?.[m.version]),
    layer: async (m, p) => (calls.push(`layer ${p.version} on ${m.version}`), fail.layer?.[`${p.version} on ${m.version}`]),
    additions: async () => additions,
  };
  return { check, calls };
}

test('the index client asks the JSON simple API and keeps final releases that are not entirely yanked, newest first', async () => {
  const mlflow = await listReleases('mlflow', index);
  expect(versions(mlflow)).toEqual(['3.18.0', '3.17.2', '3.17.1', '3.9.0.post1', '3.9.0']);
  expect(mlflow[0]).toEqual({ version: '3.18.0', uploaded: '2026-11-03T23:46:06Z' });
  expect(versions(await listReleases('mlflow_oidc_auth', index))).toEqual(['12.0.0', '11.0.2', '11.0.1', '5.6.1']);
  expect(served).toContain('/simple/mlflow-oidc-auth/ application/vnd.pypi.simple.v1+json');
  expect(fileVersion('mlflow_oidc_auth-11.0.2-py3-none-any.whl', 'mlflow-oidc-auth')).toBe('11.0.2');
  expect(fileVersion('mlflow-oidc-auth-5.6.1.tar.gz', 'mlflow-oidc-auth')).toBe('5.6.1');
  expect(fileVersion('mlflow_skinny-3.18.0.tar.gz', 'mlflow')).toBeUndefined();
});

test('an index that cannot answer fails in one line naming the project and the URL', async () => {
  const line = async (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof HarnessError ? e.line() : String(e)));
  expect(await line(listReleases('no-such-project', index))).toMatch(/^Cannot list the releases of no-such-project: http:\/\/127\.0\.0\.1:\d+\/simple\/no-such-project\/ answered HTTP 404 — check .*PIP_INDEX_URL/);
  expect(await line(listReleases('html-only', index))).toMatch(/answered text\/html, not the JSON simple API/);
  expect(await line(listReleases('mlflow', 'http://127.0.0.1:1/simple/'))).toMatch(/^Cannot list the releases of mlflow from http:\/\/127\.0\.0\.1:1\/simple\/mlflow\/: /);
});

test('the newest pair is chosen when it installs; an uncovered plugin release is reported in one line and passed over', async () => {
  const [mlflow, plugin] = [await listReleases('mlflow', index), await listReleases('mlflow-oidc-auth', index)];
  const { check, calls } = checker();
  const pick = await pickLatest({ mlflow, plugin, asOf: '2026-12-05', covered, check });
  expect(versions([pick.mlflow, pick.plugin])).toEqual(['3.18.0', '11.0.2']);
  expect(pick.layer).toEqual(layerOf('11.0.2'));
  expect(calls).toEqual(['base 3.18.0', 'layer 11.0.2 on 3.18.0']);
  expect(versions(pick.uncovered)).toEqual(['12.0.0']);
  const line = uncoveredLine({ uncovered: pick.uncovered, plugin: pick.plugin });
  expect(line).toBe('mlflow-oidc-auth 12.0.0 (2026-12-01) has no adapter: add one in provision/plugin/ — latest runs 11.0.2, the newest release an adapter covers');
  expect(line).not.toContain('\n');
  // before 12.0.0 was uploaded there was nothing to report
  const earlier = await pickLatest({ mlflow, plugin, asOf: '2026-11-30', covered, check: checker().check });
  expect(earlier.uncovered).toEqual([]);
});

test('a pair that does not install is skipped with the installer\'s reason; the walk goes on down', async () => {
  const [mlflow, plugin] = [await listReleases('mlflow', index), await listReleases('mlflow-oidc-auth', index)];
  // uv's words when mlflow 3.18.0 needs a package the index does not serve
  const uv = 'error: No solution found when resolving dependencies\n  cause: Because there is no version of mlflow-tracing==3.18.0 and mlflow>=3.18.0 depends on mlflow-tracing==3.18.0, we can conclude that mlflow>=3.18.0 cannot be used.';
  const { check, calls } = checker({ base: { '3.18.0': installFailure(uv, '2026-11-04T00:00:00Z') } },
    [{ requirement: 'psycopg[binary]', reason: 'SQLAlchemy 2.1.6 connects postgresql:// URIs with psycopg, which the image lacks' }]);
  const pick = await pickLatest({ mlflow, plugin, asOf: '2026-12-05', covered, check });
  expect(versions([pick.mlflow, pick.plugin])).toEqual(['3.17.2', '11.0.2']);
  expect(pick.layer).toEqual([...layerOf('11.0.2'), 'psycopg[binary]']);
  expect(pick.skipped).toEqual([{ release: 'mlflow 3.18.0', reason: 'mlflow-tracing==3.18.0 was not on the package index before 2026-11-04T00:00:00Z (not yet uploaded, or never)' }]);
  expect(calls).toEqual(['base 3.18.0', 'base 3.17.2', 'layer 11.0.2 on 3.17.2']);

  // the plugin refuses the newest MLflow: that pair is skipped, the plugin runs on the MLflow below
  const refused = checker({ layer: { '11.0.2 on 3.18.0': 'Because mlflow-oidc-auth==11.0.2 depends on mlflow<3.18 and you require mlflow==3.18.0, …' } });
  const pair = await pickLatest({ mlflow, plugin, asOf: '2026-12-05', covered, check: refused.check });
  expect(versions([pair.mlflow, pair.plugin])).toEqual(['3.17.2', '11.0.2']);
  expect(pair.skipped.map((s) => s.release)).toEqual(['mlflow-oidc-auth 11.0.2 on mlflow 3.18.0']);
});

test('releases uploaded after the day do not count; nothing that installs within the walk fails in one line', async () => {
  const [mlflow, plugin] = [await listReleases('mlflow', index), await listReleases('mlflow-oidc-auth', index)];
  const asOf = await pickLatest({ mlflow, plugin, asOf: '2026-10-20', covered, check: checker().check });
  expect(versions([asOf.mlflow, asOf.plugin])).toEqual(['3.17.1', '11.0.1']);
  const none = checker({ base: Object.fromEntries(versions(mlflow).map((v) => [v, `mlflow-skinny==${v} was not on the package index`])) });
  const error = await pickLatest({ mlflow, plugin, asOf: '2026-12-05', covered, check: none.check, walk: { plugins: 2, mlflowPerPlugin: 2 } }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HarnessError);
  expect((error as HarnessError).line()).toMatch(/^No pair of the newest 2 mlflow-oidc-auth releases an adapter covers and the newest 2 MLflow releases installs together as of 2026-12-05 \(mlflow 3\.18\.0: mlflow-skinny==3\.18\.0 was not on the package index; mlflow 3\.17\.2: .*\) — /);
  // each base image is tried once, whichever plugin release is tried on it
  expect(none.calls).toEqual(['base 3.18.0', 'base 3.17.2']);
});

test('HARNESS_PINS=latest loads the day\'s resolution from the cache: pins, base recipe, dates, chart, lock outside the repository', () => {
  const cache = mkdtempSync(join(tmpdir(), 'latest-cache-'));
  const saved = { cache: process.env.HARNESS_CACHE_DIR, on: process.env.HARNESS_LATEST_ON, chart: process.env.MLFLOW_CHART_VERSION };
  process.env.HARNESS_CACHE_DIR = cache;
  delete process.env.HARNESS_LATEST_ON;
  try {
    expect(() => loadPinSet('latest')).toThrow(/^The pin set latest is not resolved as of \d{4}-\d{2}-\d{2} on this machine/);
    const r = LatestResolution.parse({
      day: today(), resolvedAt: new Date().toISOString(), index, inputs: 'x',
      mlflow: { version: '3.17.2', uploaded: '2026-10-21T02:08:42Z' }, plugin: { version: '11.0.2', uploaded: '2026-10-21T01:02:26Z' },
      like: '3.15.1', baseBuiltOn: '2026-10-21',
      layer: [...layerOf('11.0.2'), 'psycopg[binary]'],
      layerReasons: [{ requirement: 'psycopg[binary]', reason: 'SQLAlchemy 2.1.6 connects postgresql:// URIs with psycopg, which the image lacks' }],
      skipped: [{ release: 'mlflow 3.18.0', reason: 'mlflow-tracing==3.18.0 was not on the package index before 2026-11-04T00:00:00Z (not yet uploaded, or never)' }],
      uncovered: [{ version: '12.0.0', uploaded: '2026-12-01T08:00:00Z' }],
    });
    const dir = writeLatest(cache, r);
    const set = loadPinSet('latest');
    expect(set).toMatchObject({
      name: 'latest', pins: { mlflow: '3.17.2', mlflowOidcAuth: '11.0.2', layerRequirements: ['mlflow-oidc-auth[full]==11.0.2', 'cachelib[filesystem]', 'psycopg[binary]'] },
      python: '3.13', chart: '1.11.5', adapter: { generation: '8-11' }, dates: { baseBuiltOn: '2026-10-21', builtOn: today() }, settings: [],
    });
    expect(set.baseImage.like?.tag).toBe('3.15.1');
    expect(installPlan(set).base.requirements).toEqual(expect.arrayContaining(['mlflow==3.17.2', 'mlflow[auth,pipelines]>=3.17.2,<4.0.0']));
    expect(lockFile(set)).toBe(join(dir, 'mlflow-3.17.2+oidc-11.0.2+py3.13.txt'));
    expect(set.upstream).toEqual([latestLine(r), uncoveredLine(r)]);
    expect(set.upstream![0]).toMatch(/MLflow 3\.17\.2 \+ mlflow-oidc-auth 11\.0\.2 \+ psycopg\[binary\] \(SQLAlchemy 2\.1\.6 .*\); skipped mlflow 3\.18\.0: mlflow-tracing==3\.18\.0 was not on the package index/);
    // the Dockerfile on disk is the one the pins were read from (the k3d target builds it)
    expect(parseDockerfilePins(readFileSync(join(dir, 'Dockerfile'), 'utf8'))).toEqual(set.pins);
    // the chart the user points at wins over the base image's
    process.env.MLFLOW_CHART_VERSION = '1.12.0';
    expect(loadPinSet('latest').chart).toBe('1.12.0');
  } finally {
    for (const [k, v] of [['HARNESS_CACHE_DIR', saved.cache], ['HARNESS_LATEST_ON', saved.on], ['MLFLOW_CHART_VERSION', saved.chart]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
