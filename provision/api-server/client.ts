import {
  ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy, ServerConfiguration, createConfiguration,
  type KubernetesObject, type RequestContext, type ResponseContext,
} from '@kubernetes/client-node';

/** The server's answer to one request: accepted, or refused with its message. */
export type Answer = { ok: true } | { ok: false; message: string };

const messageOf = (e: unknown): string => {
  if (e instanceof ApiException) {
    const body = e.body as { message?: string } | string | undefined;
    const text = typeof body === 'string' ? (() => { try { return (JSON.parse(body) as { message?: string }).message ?? body; } catch { return body; } })() : body?.message;
    return `${e.code}: ${text ?? e.message}`;
  }
  return (e as Error).message.split('\n')[0] ?? String(e);
};

/**
 * Server-side apply through @kubernetes/client-node with strict field validation. The client's typed serializer
 * drops fields it does not know (a misspelt `readOnlyRootFilesytem` would never reach the server), so each
 * request's body is replaced, in a request middleware, by the object exactly as the plan has it.
 */
export class StrictApplier {
  private readonly kc: KubeConfig;
  private readonly objects: KubernetesObjectApi;

  constructor(kubeconfig: string) {
    this.kc = new KubeConfig();
    this.kc.loadFromFile(kubeconfig);
    this.objects = KubernetesObjectApi.makeApiClient(this.kc);
  }

  private config(body: unknown) {
    const server = this.kc.getCurrentCluster()!.server;
    return createConfiguration({
      baseServer: new ServerConfiguration(server, {}),
      authMethods: { default: this.kc },
      promiseMiddleware: [{
        pre: async (ctx: RequestContext) => {
          // only the write itself: the client also reads the API's discovery documents
          if (ctx.getHttpMethod() === 'PATCH') {
            ctx.setQueryParam('fieldValidation', 'Strict');
            ctx.setBody(JSON.stringify(body));
          }
          return ctx;
        },
        post: async (r: ResponseContext) => r,
      }],
    });
  }

  /** Server-side apply of `o` (dry run unless `persist`), field manager `mlflow-harness`, strict validation. */
  async apply(o: KubernetesObject, persist: boolean): Promise<Answer> {
    try {
      // the middleware runs only from the client's own configuration (not from a per-call one)
      await new KubernetesObjectApi(this.config(o)).patch(o, undefined, persist ? undefined : 'All', 'mlflow-harness', true, PatchStrategy.ServerSideApply);
      return { ok: true };
    } catch (e) {
      return { ok: false, message: messageOf(e) };
    }
  }

  /** A merge patch of an existing object (what `kubectl patch --type merge` sends), dry run, strict validation. */
  async mergePatch(ref: KubernetesObject, body: unknown): Promise<Answer> {
    try {
      await new KubernetesObjectApi(this.config(body)).patch({ ...ref, ...(body as object) } as KubernetesObject, undefined, 'All', 'mlflow-harness', undefined, PatchStrategy.MergePatch);
      return { ok: true };
    } catch (e) {
      return { ok: false, message: messageOf(e) };
    }
  }

  async exists(o: KubernetesObject): Promise<boolean> {
    try {
      await this.objects.read({ apiVersion: o.apiVersion!, kind: o.kind!, metadata: { name: o.metadata!.name!, namespace: o.metadata?.namespace ?? '' } });
      return true;
    } catch {
      return false;
    }
  }

  /** Replaces the status subresource (what a controller or kubelet would report). */
  async setStatus(o: { group: string; version: string; plural: string; namespace?: string; name: string }, status: unknown): Promise<Answer> {
    const body = { status };
    try {
      const server = this.kc.getCurrentCluster()!.server;
      const base = o.group ? `/apis/${o.group}/${o.version}` : `/api/${o.version}`;
      const path = `${base}${o.namespace ? `/namespaces/${o.namespace}` : ''}/${o.plural}/${o.name}/status`;
      const cfg = createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: this.kc } });
      const ctx = cfg.baseServer.makeRequestContext(path, 'PATCH' as never);
      ctx.setHeaderParam('Content-Type', 'application/merge-patch+json');
      ctx.setBody(JSON.stringify(body));
      await cfg.authMethods.default?.applySecurityAuthentication(ctx);
      const res = await cfg.httpApi.send(ctx).toPromise();
      if (res.httpStatusCode >= 300) return { ok: false, message: `${res.httpStatusCode}: ${await res.body.text()}` };
      return { ok: true };
    } catch (e) {
      return { ok: false, message: messageOf(e) };
    }
  }
}
