import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { execa } from 'execa';
import { HarnessError } from '../errors.ts';
import type { RealmInputs } from '../keycloak/realm.ts';
import { projectRoot } from '../paths.ts';
import type { Runner } from './execute.ts';
import { Kube } from './kube.ts';
import { redactSecrets } from './placeholders.ts';
import { shellWord, toYaml } from './render.ts';
import { APPLIED_RECORD, type PlanStep } from './steps.ts';
import { waitFor } from './wait.ts';

export interface LiveRunnerOptions {
  /** KUBECONFIG and Helm's repository files (commandEnv). */
  env: Record<string, string>;
  kubeconfig: string;
  logDir: string;
  caCert: string;
  redactions: Record<string, string>;
  /** configureRealm's inputs for a realm step (admin password, client secret, persona passwords). */
  realmInputs: (step: PlanStep) => RealmInputs;
}

const realmRunner = join(dirname(fileURLToPath(import.meta.url)), 'realm-runner.ts');

/** What differs between the live realm and the description, read by realm-runner.ts in a process that trusts the stack CA. */
export async function realmDriftOf(inputs: RealmInputs, caCert: string, redactions: Record<string, string>): Promise<string[]> {
  const r = await execa(process.execPath, ['--import', 'tsx', realmRunner, '--check'], {
    cwd: projectRoot,
    input: JSON.stringify(inputs),
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caCert },
    all: true,
    reject: false,
  });
  if (r.exitCode !== 0) throw new Error(redactSecrets(String(r.all ?? r.shortMessage).trim().split('\n').slice(-3).join(' | '), redactions));
  return JSON.parse(String(r.stdout).trim().split('\n').pop() ?? '[]') as string[];
}

/** Runs plan steps on this machine: programs with execa, waits and records through the cluster API. */
export function liveRunner(o: LiveRunnerOptions): Runner {
  let kube: Kube | undefined;
  const cluster = () => (kube ??= new Kube(o.kubeconfig));
  // Digests are recorded once this run has written the kubeconfig of the cluster it works on (step
  // `kubeconfig`); until then (the cluster step itself) they wait here. A kubeconfig left from an earlier
  // cluster is never used.
  let kubeconfigFresh = false;
  const pending = new Map<string, string>();
  const log = (s: PlanStep, text: string) => {
    mkdirSync(o.logDir, { recursive: true });
    appendFileSync(join(o.logDir, `${s.id}.log`), redactSecrets(text, o.redactions));
  };

  return {
    async command(s, argv, input) {
      // the log shows what was fed with its placeholders, never the filled secrets
      const fed = s.kind === 'manifest' ? toYaml(s.manifest) : s.stdin;
      log(s, `$ ${argv.map(shellWord).join(' ')}\n${fed ? `--- stdin\n${fed}--- output\n` : ''}`);
      // no input: stdin is closed, so nothing waits on it
      const stdin = input === undefined ? { stdin: 'ignore' as const } : { input };
      const r = await execa(argv[0]!, argv.slice(1), { ...stdin, env: { ...process.env, ...o.env }, all: true, reject: false });
      const output = String(r.all ?? '');
      log(s, `${output}\n[exit ${r.exitCode ?? r.shortMessage}]\n`);
      if (s.id === 'kubeconfig' || s.id === 'cluster-delete') {
        kubeconfigFresh = s.id === 'kubeconfig' && r.exitCode === 0;
        kube = undefined;
      }
      return { exitCode: r.exitCode ?? 1, output: redactSecrets(output, o.redactions) };
    },

    wait: (target) => waitFor(target, cluster),

    async realm(s) {
      const r = await execa(process.execPath, ['--import', 'tsx', realmRunner], {
        cwd: projectRoot,
        input: JSON.stringify(o.realmInputs(s)),
        env: { ...process.env, NODE_EXTRA_CA_CERTS: o.caCert },
        all: true,
        reject: false,
      });
      log(s, `${String(r.all ?? '')}\n[exit ${r.exitCode ?? r.shortMessage}]\n`);
      if (r.exitCode !== 0) {
        throw new HarnessError(`Realm ${s.realm!.realm} could not be configured at ${s.realm!.baseUrl}: ${redactSecrets(String(r.all ?? r.shortMessage).trim().split('\n').slice(-5).join(' | '), o.redactions)}`);
      }
    },

    writeFile(path, text) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    },

    async record(id, digest) {
      pending.set(id, digest);
      if (!kubeconfigFresh || !existsSync(o.kubeconfig)) return;
      const data = Object.fromEntries(pending);
      const { namespace, name } = APPLIED_RECORD;
      try {
        await cluster().core.patchNamespacedConfigMap({ namespace, name, body: { data } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 404)) throw e;
        await cluster().core.createNamespacedConfigMap({ namespace, body: { metadata: { name, namespace }, data } });
      }
      pending.clear();
    },
  };
}
