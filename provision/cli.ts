#!/usr/bin/env node
import { HarnessError } from './errors.ts';
import { installSignalHandlers } from './interrupts.ts';
import { seconds } from './progress.ts';

// This project supports Node 20; the SDK's notice about its future Node 22 requirement is not for our users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

type Command = (args: string[]) => Promise<number>;

/** The command table; each command loads its module lazily. */
const commands: Record<string, { describe: string; run: Command }> = {
  provision: { describe: 'bring the stack up (reuses a running one); --dry-run prints the k3d plan', run: async (a) => (await import('./commands/provision.ts')).provision(a) },
  status: { describe: 'endpoints, personas and component health (--json for machines)', run: async (a) => (await import('./commands/status.ts')).status(a) },
  teardown: { describe: 'stop everything and remove the state folder', run: async () => (await import('./commands/teardown.ts')).teardown() },
  prereqs: { describe: 'install and cache what the local target runs', run: async () => (await import('./commands/prereqs.ts')).prereqs() },
  specs: { describe: 'run the specs against the stack that is up (no provisioning); args go to playwright', run: async (a) => (await import('./commands/test.ts')).specs(a) },
  mlflow: { describe: 'buun-stack recipes on the local stack: install | uninstall [--delete-db] | cleanup', run: async (a) => (await import('./commands/mlflow.ts')).mlflowRecipe(a) },
  scenarios: { describe: 'list the troubleshooting scenarios', run: async (a) => (await import('./commands/scenario.ts')).listScenarios(a) },
  scenario: { describe: 'reproduce scenarios: <id | file.yaml>… | all', run: async (a) => (await import('./commands/scenario.ts')).scenario(a) },
  controls: { describe: 'negative controls: faults that must turn named claims red ([<id|fault.yaml>…] [--ci])', run: async (a) => (await import('./commands/controls.ts')).controls(a) },
  bump: { describe: 'run the suite on two pin sets and report what changed: [<from>] [<to>] (pin set, Dockerfile or git:<ref>)', run: async (a) => (await import('./commands/bump.ts')).bump(a) },
  compare: { describe: 'what changed between two saved conformance.json files (exit 1 when a claim got worse)', run: async (a) => (await import('./commands/compare.ts')).compare(a) },
  'chart-parity': { describe: 'the chart\'s mlflow container (helm template) against what the local target runs: [--chart <version | path>]', run: async (a) => (await import('./commands/chart-parity.ts')).chartParity(a) },
  drift: { describe: 'buun-stack\'s versions and settings (a checkout) against the platform profile: <path> [--platform <name>]', run: async (a) => (await import('./commands/drift.ts')).drift(a) },
  'k3d-api': { describe: 'the k3d plan of each platform profile against a real kube-apiserver (no kubelet): reports/k3d-api.json; [--platform <name>]', run: async (a) => (await import('./commands/k3d-api.ts')).k3dApi(a) },
  k3d: { describe: 'the k3d target on its own: plan (prints every command and manifest, no Docker needed) | up | down', run: async (a) => (await import('./commands/k3d.ts')).k3d(a) },
  'merge-reports': { describe: 'merge the reports of a sharded run (npm test -- --shard=i/n): <shard report folder>…', run: async (a) => (await import('./commands/merge-reports.ts')).mergeReports(a) },
  bench: { describe: 'one npm test from no stack up, measured: reports/bench.json', run: async (a) => (await import('./commands/bench.ts')).bench(a) },
  test: { describe: 'provision if needed, run the specs, tear down what was provisioned', run: async (a) => (await import('./commands/test.ts')).test(a) },
  'test-remote': { describe: 'npm test with HARNESS_TARGET=remote against a local stack ([--keycloak-admin]): the remote target as a user meets it', run: async (a) => (await import('./commands/test-remote.ts')).testRemote(a) },
};

/** Commands that never read a pin set: they do not resolve `latest` (a teardown must not wait on the package index). */
const PIN_FREE = new Set(['status', 'teardown', 'compare', 'scenarios', 'drift']);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    const list = Object.entries(commands).map(([k, v]) => `  ${k.padEnd(13)} ${v.describe}`).join('\n');
    process.stderr.write(`${name ? `Unknown command \`${name}\`.\n` : ''}Usage: npm run <command>\n${list}\n`);
    return 2;
  }
  // HARNESS_PINS=latest (or `bump … latest`) is resolved at run time, before the command loads it
  if (!PIN_FREE.has(name!)) {
    const { loadHarnessEnv } = await import('./config/env.ts');
    const { LATEST } = await import('./config/latest.ts');
    if (loadHarnessEnv().HARNESS_PINS === LATEST || (name === 'bump' && rest.includes(LATEST))) await (await import('./local/prereqs/latest.ts')).ensureLatest();
  }
  return cmd.run(rest);
}

const started = Date.now();
installSignalHandlers();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof HarnessError) {
      process.stderr.write(`error: ${error.line()}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`internal error after ${seconds(Date.now() - started)} (a bug in the harness; please report it with this output):\n`);
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(70);
  },
);

