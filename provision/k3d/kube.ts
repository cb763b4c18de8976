import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import type { ObjectRef } from './steps.ts';

// The cluster API through @kubernetes/client-node 1.x: reading objects, their events, and a pod's log tail.

/** An object as the API returns it (only the fields the waits read are typed). */
export interface KubeObject {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** Whether a Deployment's rollout is complete (what `kubectl rollout status` checks), and a one-line status. */
export function rolloutState(o: KubeObject | undefined): { done: boolean; summary: string } {
  if (!o) return { done: false, summary: 'not found' };
  const want = o.spec?.replicas ?? 1;
  const s = o.status ?? {};
  const summary = `${s.availableReplicas ?? 0}/${want} available, ${s.updatedReplicas ?? 0} updated, ${s.replicas ?? 0} total`;
  const current = (s.observedGeneration ?? 0) >= (o.metadata?.generation ?? 1);
  const done = current && (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want;
  return { done, summary };
}

/** Whether condition `type` is True, and a one-line status. */
export function conditionState(o: KubeObject | undefined, type: string): { done: boolean; summary: string } {
  if (!o) return { done: false, summary: 'not found' };
  const c = o.status?.conditions?.find((x) => x.type === type);
  if (!c) return { done: false, summary: `no ${type} condition yet` };
  return { done: c.status === 'True', summary: `${type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}` };
}

const notFound = (e: unknown) => e instanceof ApiException && e.code === 404;

export class Kube {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;

  constructor(kubeconfigFile: string) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigFile);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** The object, or undefined when it does not exist (yet). */
  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      const { group, version, plural, name } = ref;
      const o: unknown = ref.namespace
        ? await this.custom.getNamespacedCustomObject({ group, version, plural, name, namespace: ref.namespace })
        : await this.custom.getClusterCustomObject({ group, version, plural, name });
      return o as KubeObject;
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  /** The last `count` events about objects whose name starts with `name` (the object, its ReplicaSets and pods). */
  async events(namespace: string, name: string, count = 10): Promise<string[]> {
    const list = await this.core.listNamespacedEvent({ namespace });
    const when = (e: CoreV1Event) => new Date(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? 0).getTime();
    return list.items
      .filter((e) => e.involvedObject.name?.startsWith(name))
      .sort((a, b) => when(a) - when(b))
      .slice(-count)
      .map((e) => `${e.type ?? ''} ${e.reason ?? ''} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message ?? ''}`.trim());
  }

  async pods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace, labelSelector })).items;
  }

  /** The newest pod's log tail, from the container that is stuck (an unfinished init container first). */
  async logTail(namespace: string, labelSelector: string, lines = 40): Promise<string> {
    const pods = (await this.pods(namespace, labelSelector)).sort((a, b) =>
      new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime());
    const pod = pods[0];
    if (!pod?.metadata?.name) return `(no pod matches ${labelSelector})`;
    const container = stuckContainer(pod);
    try {
      const log = await this.core.readNamespacedPodLog({ name: pod.metadata.name, namespace, container, tailLines: lines });
      return `pod ${pod.metadata.name}, container ${container ?? '(default)'}:\n${log.trimEnd() || '(empty log)'}`;
    } catch (e) {
      return `pod ${pod.metadata.name}, container ${container ?? '(default)'}: no log (${(e as Error).message.split('\n')[0]})`;
    }
  }
}

/** The container whose log explains a pod that is not ready: an init container that did not complete, else a main one not ready. */
export function stuckContainer(pod: V1Pod): string | undefined {
  const init = pod.status?.initContainerStatuses?.find((c) => c.state?.terminated?.reason !== 'Completed');
  if (init) return init.name;
  const main = pod.status?.containerStatuses?.find((c) => !c.ready);
  return main?.name ?? pod.spec?.containers[0]?.name;
}
