import type { PluginAdapter } from './adapter.ts';
import { fastapiAppName, gen7 } from './gen7.ts';

/**
 * mlflow-oidc-auth 8.x–11.x (facts read from the 11.0.2 wheel; the contracts the suite uses are those of 6–7
 * unless listed here).
 * - Requires Python ≥ 3.11, but `permission_kinds.py` builds a dataclass field with a mappingproxy default,
 *   which Python 3.11 refuses at import (`ValueError: mutable default … for field extra_filter`): 3.12 is needed.
 * - PKCE by default: OIDC_CODE_CHALLENGE defaults to S256 (config.py:166), sent unless the IdP's metadata says
 *   it does not support it (oauth.py:181).
 * - Sessions: the signed cookie `session` carries an id; tokens and expiry live in table `auth_sessions`
 *   (session/token_vault.py) — server-side sessions since 7.13.
 * - DEFAULT_MLFLOW_PERMISSION defaults to NO_PERMISSIONS (config.py:73; since 7.6.0), with a warning when it
 *   grants access; buun-stack sets MANAGE explicitly.
 * - Startup: `OIDC client(s) successfully registered at startup: <providers>` (app.py:84, several providers
 *   since 7.17), the router lines and `MLflow Flask app mounted at / with FastAPI auth info passing`.
 * - Unchanged from 7.x: 401 `{"detail":"Authentication required"}` for /api and /ajax-api, the access-token and
 *   current-user routes, "User is not allowed to login" / "Invalid state parameter" on /oidc/ui/auth?error=,
 *   the first stop /oidc/ui/user, `/health` → {"status":"ok"}, the token expiration messages.
 */
export const gen11: PluginAdapter = {
  ...gen7,
  generation: '8-11',
  range: '>=8.0.0 <12.0.0',
  requiredSettings: fastapiAppName(['oidc-auth'], '6.0.0'),
  startupLines: ['MLflow Flask app mounted at / with FastAPI auth info passing', 'OIDC client(s) successfully registered at startup'],
  session: { mechanism: 'server-side', cookie: 'session', readsSessionType: false },
  pkce: true,
  defaultPermission: 'NO_PERMISSIONS',
  // named access tokens (users/current/tokens; current user carries no password_expiration any more)
  tokenExpiry: {
    route: '/api/2.0/mlflow/users/current/tokens',
    read: (a) => ((a.tokens ?? []) as { expires_at?: string }[]).map((t) => String(t.expires_at)),
  },
  // the React app of 8.0–11.x (same in the 8.0.0, 10.0.0 and 11.0.2 wheels): a "Tokens" tab with named tokens,
  // "+ Create group" on the groups page (members come from the IdP or SCIM, no membership editing), SCIM, MCP servers;
  // no audit-log page
  ui: { family: 'react-8-11', features: { groupCreation: true, groupMembership: false, auditLog: false, serviceAccounts: true, namedTokens: true } },
};
