import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';

/**
 * The UI checks' screenshots of two runs side by side: for every step of C11, C17 and C26 whose check changed status
 * or whose page looks different, the image before, after, and the pixels that differ. The runs' screenshots are the
 * `ui/<pin set>/<check>/<NN>-<step>.png` files with `check.json` that specs/ui/screens.ts writes.
 */

interface CheckShots {
  title: string;
  status?: string;
  steps: { step: string; file: string; failed?: boolean }[];
}

interface Shot {
  check: string;
  title: string;
  status: string;
  step: string;
  index: number;
  file: string;
  failed: boolean;
}

export interface ScreenPair {
  check: string;
  title: string;
  step: string;
  from?: { file: string; status: string };
  to?: { file: string; status: string };
  /** Image of the differing pixels (when both sides have the step and the same size). */
  diff?: string;
  /** Share of pixels that differ (1 when the sizes differ or a side is missing). */
  changed: number;
  why: string[];
}

/** A page counts as changed when more than this share of its pixels differ (anti-aliasing noise stays below). */
export const CHANGED_SHARE = 0.002;

/** Every step screenshot a run wrote, by `<check>/<step>`. */
export function readShots(reportDir: string): Map<string, Shot> {
  const shots = new Map<string, Shot>();
  const ui = join(reportDir, 'ui');
  if (!existsSync(ui)) return shots;
  for (const pins of readdirSync(ui, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const check of readdirSync(join(ui, pins.name), { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const manifest = join(ui, pins.name, check.name, 'check.json');
      if (!existsSync(manifest)) continue;
      const c = JSON.parse(readFileSync(manifest, 'utf8')) as CheckShots;
      c.steps.forEach((s, i) => {
        shots.set(`${check.name}/${s.step}`, { check: check.name, title: c.title, status: c.status ?? 'unknown', step: s.step, index: i, file: join(ui, pins.name, check.name, s.file), failed: !!s.failed });
      });
    }
  }
  return shots;
}

/** Share of differing pixels of two PNGs; writes the diff image when they have the same size. */
export function comparePngs(a: string, b: string, diffFile?: string): number {
  const x = PNG.sync.read(readFileSync(a));
  const y = PNG.sync.read(readFileSync(b));
  if (x.width !== y.width || x.height !== y.height) return 1;
  const out = new PNG({ width: x.width, height: x.height });
  const n = pixelmatch(x.data, y.data, out.data, x.width, x.height, { threshold: 0.1 });
  if (diffFile && n > 0) {
    mkdirSync(dirname(diffFile), { recursive: true });
    writeFileSync(diffFile, PNG.sync.write(out));
  }
  return n / (x.width * x.height);
}

/** The steps whose check status or page changed between two runs' report folders; diff images go to `diffDir`. */
export function screenshotPairs(fromDir: string, toDir: string, diffDir: string): ScreenPair[] {
  const a = readShots(fromDir);
  const b = readShots(toDir);
  const pairs: ScreenPair[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])]) {
    const x = a.get(key);
    const y = b.get(key);
    const any = (y ?? x)!;
    const why: string[] = [];
    const statusOf = (s: Shot) => (s.failed ? 'failed' : s.status);
    if (!x) why.push('new step');
    if (!y) why.push('step gone');
    if (x && y && statusOf(x) !== statusOf(y)) why.push(`check ${statusOf(x)} → ${statusOf(y)}`);
    let changed = 1;
    let diff: string | undefined;
    if (x && y) {
      const file = join(diffDir, any.check, `${String(any.index + 1).padStart(2, '0')}-diff.png`);
      changed = comparePngs(x.file, y.file, file);
      if (changed > CHANGED_SHARE) {
        why.push(`${(changed * 100).toFixed(1)} % of the page differs`);
        if (existsSync(file)) diff = file;
      }
    }
    if (why.length) {
      pairs.push({
        check: any.check,
        title: any.title,
        step: any.step,
        ...(x ? { from: { file: x.file, status: statusOf(x) } } : {}),
        ...(y ? { to: { file: y.file, status: statusOf(y) } } : {}),
        ...(diff ? { diff } : {}),
        changed,
        why,
      });
    }
  }
  const order = (p: ScreenPair) => `${p.check}/${String((b.get(`${p.check}/${p.step}`) ?? a.get(`${p.check}/${p.step}`))!.index).padStart(3, '0')}`;
  return pairs.sort((p, q) => order(p).localeCompare(order(q)));
}

const h = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The HTML section of bump.html: per changed step, the page before and after (and the differing pixels). */
export function screenshotSection(pairs: ScreenPair[], htmlDir: string, total: number): string {
  const img = (file: string | undefined, alt: string) => (file ? `<a href="${h(relative(htmlDir, file))}"><img src="${h(relative(htmlDir, file))}" alt="${h(alt)}" loading="lazy"></a>` : '<i>(no such step)</i>');
  const byCheck = new Map<string, ScreenPair[]>();
  for (const p of pairs) byCheck.set(p.check, [...(byCheck.get(p.check) ?? []), p]);
  const checks = [...byCheck.entries()].map(([check, list]) => `<h3>${h(check)}</h3><p>${h(list[0]!.title)}</p>
<table class="shots"><tr><th>step</th><th>before</th><th>after</th><th>differing pixels</th></tr>
${list.map((p) => `<tr><td><b>${h(p.step)}</b><br>${p.why.map(h).join('<br>')}</td><td>${img(p.from?.file, 'before')}</td><td>${img(p.to?.file, 'after')}</td><td>${p.diff ? img(p.diff, 'diff') : ''}</td></tr>`).join('\n')}
</table>`).join('\n');
  return `<style>table.shots img{width:400px;border:1px solid #aaa}table.shots td{vertical-align:top}</style>
<h2>The UI, before and after</h2>
<p>${pairs.length} of ${total} UI steps changed (check status, or more than ${CHANGED_SHARE * 100} % of the page's pixels). Same viewport, fonts, locale and time zone on both sides; secrets and run-specific names and dates are masked in grey.</p>
${checks}
`;
}
