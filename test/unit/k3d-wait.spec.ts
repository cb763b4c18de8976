import { test, expect } from '@playwright/test';
import type { V1Pod } from '@kubernetes/client-node';
import { HarnessError } from '../../provision/errors.ts';
import { conditionState, rolloutState, stuckContainer, type Kube, type KubeObject } from '../../provision/k3d/kube.ts';
import { waitFor } from '../../provision/k3d/wait.ts';

test('a rollout is complete only when every replica of the current generation is updated and available', () => {
  const deployment = (status: KubeObject['status'], generation = 2): KubeObject => ({ metadata: { generation }, spec: { replicas: 1 }, status });
  expect(rolloutState(undefined)).toEqual({ done: false, summary: 'not found' });
  expect(rolloutState(deployment({ observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 })).done).toBe(true);
  // an old pod still running next to the new one (maxSurge 100%)
  expect(rolloutState(deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 })).done).toBe(false);
  // the controller has not seen the new template yet
  expect(rolloutState(deployment({ observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 })).done).toBe(false);
  expect(rolloutState(deployment({ observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 })).summary).toBe('0/1 available, 1 updated, 1 total');
});

test('a condition wait reads the named condition', () => {
  const o = (status: string): KubeObject => ({ status: { conditions: [{ type: 'Ready', status, reason: 'Starting', message: 'pods not ready' }] } });
  expect(conditionState(o('True'), 'Ready').done).toBe(true);
  expect(conditionState(o('False'), 'Ready')).toEqual({ done: false, summary: 'Ready=False (Starting: pods not ready)' });
  expect(conditionState({ status: {} }, 'Established')).toEqual({ done: false, summary: 'no Established condition yet' });
});

test('the log tail comes from the init container that did not complete, else from the container not ready', () => {
  const pod = (init: [string, string | undefined][], main: [string, boolean][]): V1Pod => ({
    spec: { containers: main.map(([name]) => ({ name })) },
    status: {
      initContainerStatuses: init.map(([name, reason]) => ({ name, image: '', imageID: '', ready: false, restartCount: 0, state: reason ? { terminated: { reason, exitCode: 0 } } : { running: {} } })),
      containerStatuses: main.map(([name, ready]) => ({ name, image: '', imageID: '', ready, restartCount: 0 })),
    },
  });
  expect(stuckContainer(pod([['dbchecker', 'Completed'], ['mlflow-db-migration', undefined]], [['mlflow', false]]))).toBe('mlflow-db-migration');
  expect(stuckContainer(pod([['dbchecker', 'Completed'], ['mlflow-db-migration', 'Completed']], [['mlflow', false]]))).toBe('mlflow');
});

test('a wait that times out names the object, its last status, recent events and the pod log tail', async () => {
  const fake = {
    get: async () => ({ metadata: { generation: 1 }, spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0 } }),
    events: async () => ['Warning BackOff Pod/mlflow-abc: Back-off restarting failed container'],
    logTail: async () => 'pod mlflow-abc, container mlflow:\nKeyError: groups',
  } as unknown as Kube;
  const started = Date.now();
  const error = await waitFor({ group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespace: 'mlflow', name: 'mlflow', for: 'rollout', timeoutSeconds: 0.2, pods: 'app=mlflow' }, () => fake)
    .then(() => undefined, (e: unknown) => e);
  expect(Date.now() - started).toBeLessThan(5000);
  expect(error).toBeInstanceOf(HarnessError);
  const message = (error as Error).message;
  expect(message).toContain('Deployment mlflow/mlflow did not finish its rollout within 0.2s (last: 0/1 available, 1 updated, 1 total)');
  expect(message).toContain('Back-off restarting failed container');
  expect(message).toContain('KeyError: groups');
});
