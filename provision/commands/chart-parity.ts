import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHarnessEnv } from '../config/env.ts';
import { describePinSet, loadPinSet } from '../config/pin-sets.ts';
import { describeStack } from '../config/stack.ts';
import { HarnessError } from '../errors.ts';
import { cacheDir, reportsDir } from '../paths.ts';
import { info, step } from '../progress.ts';
import { HELM_VERSION, ensureHelm } from '../local/prereqs/helm.ts';
import { localSide } from '../chart/local.ts';
import { extractChartSpec, parseManifest } from '../chart/manifest.ts';
import { compareParity, countVerdicts, formatDeclarations, formatParityTable, type ParityRow } from '../chart/parity.ts';
import { clusterChartValues, helmTemplate, prepareChart, resolveChart } from '../chart/render.ts';

function parseArgs(args: string[]): { chart?: string } {
  const out: { chart?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--chart') {
      const v = args[++i];
      if (!v) throw new HarnessError('--chart needs a value', 'npm run chart-parity -- --chart <version | path to charts/mlflow>');
      out.chart = v;
    } else if (a.startsWith('--chart=')) {
      out.chart = a.slice('--chart='.length);
    } else {
      throw new HarnessError(`Unknown argument \`${a}\``, 'npm run chart-parity -- [--chart <version | path to charts/mlflow>]');
    }
  }
  return out;
}

/**
 * `npm run chart-parity -- [--chart <version | path>]`: renders the Community Charts `mlflow` chart with the
 * values rendered from the stack description (`helm template`, nothing is deployed or started) and compares its
 * `mlflow` container — arguments, environment, init containers — with what the local target runs.
 * Writes reports/chart-parity.json; exit 1 when a row differs.
 */
export async function chartParity(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  const env = loadHarnessEnv();
  const set = loadPinSet(env.HARNESS_PINS);
  const desc = describeStack(env, set);
  const cache = cacheDir();
  info(`Pin set ${describePinSet(set)}`);

  const helm = await ensureHelm(cache, HELM_VERSION);
  const chart = await resolveChart({ ...(opts.chart ? { chart: opts.chart } : {}), ...(env.MLFLOW_CHART_PATH ? { envPath: env.MLFLOW_CHART_PATH } : {}), defaultVersion: desc.versions.chart, helm, cache });
  if (chart.version !== desc.versions.chart) info(`Note: chart ${chart.version} is not the pin set's chart ${desc.versions.chart}`);

  const values = clusterChartValues(desc, env);
  const prepared = prepareChart(chart.path, values);
  let manifest: string;
  try {
    manifest = await step(`helm template mlflow ${chart.path} (chart ${chart.version})`, () => helmTemplate(helm, cache, prepared.renderDir, desc.namespace, values));
  } finally {
    prepared.cleanup();
  }
  if (prepared.omitted.length > 0) info(`Rendered without the disabled subcharts ${prepared.omitted.join(', ')} (not in the checkout's charts/ folder)`);
  const spec = extractChartSpec(parseManifest(manifest));

  const side = localSide(desc, cache);
  let rows: ParityRow[];
  try {
    rows = compareParity(spec, side.local, { values: side.values, secrets: side.secrets })
      // the throw-away state folder stands for the real one
      .map((r) => ({ ...r, local: r.key === 'PATH' && r.local === process.env.PATH ? '(the harness\'s PATH)' : r.local.split(side.state).join('<state>') }));
  } finally {
    side.cleanup();
  }

  const report = {
    chart: { version: chart.version, path: chart.path, source: chart.source, omittedDependencies: prepared.omitted },
    pinSet: set.name,
    helm: HELM_VERSION,
    verdicts: countVerdicts(rows),
    rows,
  };
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, 'chart-parity.json'), `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(`Chart mlflow ${chart.version} (${chart.path}) against the local target (pin set ${set.name})\n\n`);
  process.stdout.write(`${formatParityTable(rows)}\n\n`);
  const declared = formatDeclarations(rows);
  if (declared) process.stdout.write(`Declared placements (provision/chart/declared.ts):\n${declared}\n\n`);
  const n = report.verdicts;
  process.stdout.write(`${n.same} same, ${n.declared} declared, ${n.differs} differ — reports/chart-parity.json\n`);
  return n.differs > 0 ? 1 : 0;
}
