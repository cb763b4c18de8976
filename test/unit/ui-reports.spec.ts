import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { PNG } from 'pngjs';
import { comparePngs, screenshotPairs, screenshotSection } from '../../provision/bump/screenshots.ts';
import { presentReports, writeReportIndex } from '../../provision/report-index.ts';
import { checkSlug } from '../../specs/ui/screens.ts';

// The UI checks' screenshots in the reports: the bump's before/after pairs (pixel comparison) and the run's start page.

function png(file: string, paint: (x: number, y: number) => [number, number, number]): void {
  const img = new PNG({ width: 40, height: 30 });
  for (let y = 0; y < 30; y++) {
    for (let x = 0; x < 40; x++) {
      const [r, g, b] = paint(x, y);
      const i = (y * 40 + x) * 4;
      img.data[i] = r;
      img.data[i + 1] = g;
      img.data[i + 2] = b;
      img.data[i + 3] = 255;
    }
  }
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, PNG.sync.write(img));
}
const white = (): [number, number, number] => [255, 255, 255];
/** A white page with a black box where a button would be. */
const button = (x: number, y: number): [number, number, number] => (x > 5 && x < 20 && y > 5 && y < 12 ? [0, 0, 0] : [255, 255, 255]);

function run(dir: string, pins: string, check: string, status: string, steps: [string, (x: number, y: number) => [number, number, number]][]): void {
  const folder = join(dir, 'ui', pins, check);
  steps.forEach(([step, paint], i) => png(join(folder, `${String(i + 1).padStart(2, '0')}-${step}.png`), paint));
  writeFileSync(join(folder, 'check.json'), JSON.stringify({ title: `[C26] ${check}: …`, claims: ['C26'], pins, status, steps: steps.map(([step], i) => ({ step, file: `${String(i + 1).padStart(2, '0')}-${step}.png` })) }));
}

test('a check\'s folder is its claims and the topic before the title\'s colon', () => {
  expect(checkSlug('[C26] registered model: on user2\'s page …')).toBe('C26-registered-model');
  expect(checkSlug('[C11] MLflow button: the permissions UI\'s "MLflow" button …')).toBe('C11-mlflow-button');
  expect(checkSlug('[C11, C12] a title without a topic at all')).toBe('C11-C12-a-title-without-a-topic');
});

test('identical images do not differ; a missing button is most of a small page; sizes that differ count as all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shots-'));
  try {
    png(join(dir, 'a.png'), button);
    png(join(dir, 'b.png'), button);
    png(join(dir, 'c.png'), white);
    expect(comparePngs(join(dir, 'a.png'), join(dir, 'b.png'))).toBe(0);
    const share = comparePngs(join(dir, 'a.png'), join(dir, 'c.png'), join(dir, 'diff.png'));
    expect(share).toBeCloseTo((14 * 6) / (40 * 30), 3);
    expect(PNG.sync.read(readFileSync(join(dir, 'diff.png'))).width).toBe(40);
    const big = new PNG({ width: 41, height: 30 });
    writeFileSync(join(dir, 'd.png'), PNG.sync.write(big));
    expect(comparePngs(join(dir, 'a.png'), join(dir, 'd.png'))).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bump pairs the steps whose page or check status changed, and only those; the section links both images and the diff', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bump-'));
  try {
    const from = join(dir, 'bump', 'from');
    const to = join(dir, 'bump', 'to');
    run(from, 'seed', 'C26-experiment', 'passed', [['experiment-permissions', button], ['group-granted', button]]);
    run(to, 'newest', 'C26-experiment', 'passed', [['experiment-permissions', button], ['group-granted', white]]);
    run(from, 'seed', 'C26-prompt', 'passed', [['prompt-permissions', button]]);
    run(to, 'newest', 'C26-prompt', 'failed', [['prompt-permissions', button]]);
    run(to, 'newest', 'C26-groups', 'passed', [['group-created', button]]);
    const pairs = screenshotPairs(from, to, join(dir, 'bump', 'ui-diff'));
    expect(pairs.map((p) => `${p.check}/${p.step}: ${p.why.join('; ')}`)).toEqual([
      'C26-experiment/group-granted: 7.0 % of the page differs',
      'C26-groups/group-created: new step',
      'C26-prompt/prompt-permissions: check passed → failed',
    ]);
    expect(pairs[0]!.diff).toContain(join('bump', 'ui-diff', 'C26-experiment', '02-diff.png'));
    const html = screenshotSection(pairs, dir, 4);
    expect(html).toContain('3 of 4 UI steps changed');
    expect(html).toContain('src="bump/from/ui/seed/C26-experiment/02-group-granted.png"');
    expect(html).toContain('src="bump/to/ui/newest/C26-experiment/02-group-granted.png"');
    expect(html).toContain('src="bump/ui-diff/C26-experiment/02-diff.png"');
    expect(html).toContain('<i>(no such step)</i>');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the start page: verdict per claim, links to the reports that exist (and only those), sub-runs, the screenshot gallery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'index-'));
  try {
    writeFileSync(join(dir, 'conformance.json'), JSON.stringify({ target: 'local', pins: { name: 'newest', mlflow: '3.17.2', mlflowOidcAuth: '11.0.2', generation: '8-11' }, summary: { passed: 1, differs: 1 }, claims: [
      { id: 'C11', text: 'login', verdict: 'passed', checks: [{ title: 'a', status: 'passed' }] },
      { id: 'C26', text: 'permissions UI', verdict: 'differs', checks: [{ title: 'b', status: 'passed' }, { title: 'c', status: 'passed' }] },
    ] }));
    writeFileSync(join(dir, 'conformance.md'), '#');
    writeFileSync(join(dir, 'permissions.html'), '<p>');
    writeFileSync(join(dir, 'something-new.html'), '<p>');
    run(dir, 'newest', 'C26-groups', 'passed', [['groups-list', button]]);
    mkdirSync(join(dir, 'bump', 'from'), { recursive: true });
    writeFileSync(join(dir, 'bump', 'from', 'index.html'), '<p>');
    expect(presentReports(dir).map((r) => r.file)).toEqual(['conformance.md', 'conformance.json', 'permissions.html', 'something-new.html']);
    writeFileSync(join(dir, 'bench.json'), '{}');
    utimesSync(join(dir, 'bench.json'), new Date('2026-01-01'), new Date('2026-01-01'));
    const html = readFileSync(writeReportIndex(dir, { title: 'npm test', since: Date.parse('2026-06-01'), runs: [{ label: 'the suite on seed', dir: join(dir, 'bump', 'from') }, { label: 'absent', dir: join(dir, 'bump', 'to') }] }), 'utf8');
    expect(html).toContain('pin set <b>newest</b> — MLflow 3.17.2, mlflow-oidc-auth 11.0.2 (generation 8-11)');
    expect(html).toMatch(/<b>C26<\/b> permissions UI<\/td><td[^>]*>differs<\/td><td>2 passed<\/td>/);
    expect(html).toContain('href="permissions.html"');
    expect(html).toMatch(/Written by earlier commands into this folder:<\/p><ul><li><a href="bench.json">.*\(2026-01-01T00:00:00.000Z\)/);
    expect(html).toContain('href="bump/from/index.html"');
    expect(html).not.toContain('absent');
    expect(html).toContain('src="ui/newest/C26-groups/01-groups-list.png"');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
