import type { PluginAdapter } from './adapter.ts';
import { fastapiAppName, gen7 } from './gen7.ts';

/** mlflow-oidc-auth 8.x–11.x. PENDING facts. */
export const gen11: PluginAdapter = {
  ...gen7,
  generation: '8-11',
  range: '>=8.0.0 <12.0.0',
  requiredSettings: fastapiAppName(['oidc-auth'], '6.0.0'),
  session: { mechanism: 'server-side', cookie: 'session', readsSessionType: false },
  pkce: true,
  defaultPermission: 'NO_PERMISSIONS',
};
