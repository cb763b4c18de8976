import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test, type Locator, type Page, type TestInfo } from '@playwright/test';
import { claimIds } from '../../conformance/claims.ts';
import { projectRoot } from '../../provision/paths.ts';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

/**
 * Screenshots of every UI step, for a person comparing two versions: `<reports>/ui/<pin set>/<check>/<NN>-<step>.png`,
 * attached to the check in the HTML report, with `check.json` (title, status, steps) beside them for the index page and
 * `npm run bump`. The browser project fixes viewport, scale, fonts, locale, time zone and colour scheme; shots are taken
 * with animations stopped and the caret hidden, and with secrets (password fields, access keys) and run-specific text
 * (unique names, dates) masked, so the same UI gives the same image.
 */

export interface StepShot {
  step: string;
  file: string;
  failed?: boolean;
}

/** What `check.json` holds. */
export interface CheckShots {
  title: string;
  claims: string[];
  pins: string;
  status?: string;
  steps: StepShot[];
}

export interface ShotOptions {
  /** More elements to mask in this shot. */
  mask?: Locator[];
}

export const reportRoot = () => resolve(projectRoot, process.env.HARNESS_REPORT_DIR ?? 'reports');
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** The folder name of a check: its claims and the topic before the title's colon (`[C26] prompt: …` → `C26-prompt`). */
export function checkSlug(title: string): string {
  const claims = claimIds(title);
  const rest = title.replace(/^\s*\[[^\]]*\]\s*/, '');
  const topic = rest.includes(':') ? rest.slice(0, rest.indexOf(':')) : rest.split(/\s+/).slice(0, 5).join(' ');
  return [claims.join('-'), slug(topic)].filter(Boolean).join('-');
}

/** The folder of a pin set's screenshots (a pin set named by a path or git ref becomes a slug). */
export const pinSetSlug = (target: TargetDescriptor) => slug(String(target.pins.name ?? `${target.pins.mlflow}-${target.pins.mlflowOidcAuth}`));

export class Screens {
  private readonly dir: string;
  private readonly volatileTexts: (string | RegExp)[] = [];
  private readonly secretFields: Locator[] = [];
  private readonly steps: StepShot[] = [];

  constructor(private readonly page: Page, private readonly info: TestInfo, private readonly target: TargetDescriptor) {
    this.dir = join(reportRoot(), 'ui', pinSetSlug(target), checkSlug(info.title));
  }

  /** Masks, in every later shot, the elements that show this text: names unique to the run, dates, times. */
  volatile(...texts: (string | RegExp)[]): void {
    this.volatileTexts.push(...texts);
  }

  /** Masks these fields in every later shot (they show a secret). */
  secret(...fields: Locator[]): void {
    this.secretFields.push(...fields);
  }

  /** Runs one UI step as a report step and takes its screenshot after it (also when it fails: the page as it was). */
  async step<T>(name: string, action: () => Promise<T>, opts: ShotOptions = {}): Promise<T> {
    let result: T;
    try {
      result = await test.step(name, action);
    } catch (e) {
      await this.shot(name, opts, true).catch(() => undefined);
      throw e;
    }
    await this.shot(name, opts);
    return result;
  }

  /** Takes the screenshot of a step. */
  async shot(name: string, opts: ShotOptions = {}, failed = false): Promise<void> {
    // a check's folder holds this run's shots only
    if (!this.steps.length) rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, `${String(this.steps.length + 1).padStart(2, '0')}-${slug(name)}.png`);
    await this.page.evaluate('document.fonts.ready.then(() => undefined)').catch(() => undefined);
    const mask = [
      this.page.locator('input[type="password"]'),
      ...this.secretFields,
      ...this.volatileTexts.map((t) => this.page.getByText(t)),
      ...(opts.mask ?? []),
    ];
    await this.page.screenshot({ path: file, animations: 'disabled', caret: 'hide', scale: 'css', mask, maskColor: '#9e9e9e', timeout: 10_000 });
    this.steps.push({ step: name, file: relative(this.dir, file), ...(failed ? { failed: true } : {}) });
    await this.info.attach(`${String(this.steps.length).padStart(2, '0')} ${name}`, { path: file, contentType: 'image/png' });
  }

  /** Writes check.json (after the check: its status is known). */
  finish(): void {
    if (!this.steps.length) return;
    const record: CheckShots = { title: this.info.title, claims: claimIds(this.info.title), pins: pinSetSlug(this.target), status: this.info.status, steps: this.steps };
    writeFileSync(join(this.dir, 'check.json'), `${JSON.stringify(record, null, 2)}\n`);
  }
}
