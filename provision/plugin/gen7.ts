import type { PluginAdapter } from './adapter.ts';

/** The settings a FastAPI-generation plugin (6.0+) needs: an app name it provides. */
export function fastapiAppName(appNames: string[], since: string): PluginAdapter['requiredSettings'] {
  return (settings) =>
    appNames.includes(settings.appName)
      ? []
      : [{
          change: { mlflow: { appName: appNames[0]! } },
          reason: `--app-name ${settings.appName} does not exist since mlflow-oidc-auth ${since}: its mlflow.app entry points are ${appNames.join(', ')}`,
        }];
}

/**
 * mlflow-oidc-auth 6.x–7.x: the FastAPI rewrite (facts read from the 7.3.1 wheel; file:line in parentheses).
 * - One app, `oidc-auth` (entry_points.txt); `oidc-auth-fastapi` is gone.
 * - AuthMiddleware (middleware/auth_middleware.py:306-343): `/api*` without valid credentials → 401
 *   `{"detail":"Authentication required"}` (no WWW-Authenticate, also for a wrong Basic password or a non-JWT
 *   Bearer); a page load (Sec-Fetch-Dest: document, or Accept text/html) elsewhere → 302 `/oidc/ui`.
 * - Users (routers/users.py): PATCH /api/2.0/mlflow/users/access-token {username?, expiration?} → {token, message};
 *   GET /users/current; POST /users (201), DELETE /users {username}, GET /users/{username}; MLflow's
 *   `/users/create|get|delete` do not exist.
 * - Login (routers/auth.py): success → 302 to /oidc/ui/user; every refusal → 302 to /oidc/ui/auth?error=<msg>
 *   (repeated for several); "User is not allowed to login" also for a missing groups claim. No PKCE (oauth.py).
 * - Sessions: Starlette's signed cookie `session` (app.py:184-191); SESSION_TYPE is never read.
 * - /health → {"status":"ok"} (routers/health.py); /v1/traces mounted (app.py:117-124), EDIT on the experiment.
 * - Permission listings carry `kind` (user|group|regex|group-regex|fallback); resource user rows `{name, permission, kind}`.
 * - DEFAULT_MLFLOW_PERMISSION defaults to MANAGE until 7.6.0, NO_PERMISSIONS after (buun-stack sets MANAGE).
 */
export const gen7: PluginAdapter = {
  generation: '6-7',
  range: '>=6.0.0 <8.0.0',
  appNames: ['oidc-auth'],
  requiredSettings: fastapiAppName(['oidc-auth'], '6.0.0'),
  routes: {
    currentUser: '/api/2.0/mlflow/users/current',
    accessToken: '/api/2.0/mlflow/users/access-token',
    createUser: '/api/2.0/mlflow/users',
    deleteUser: '/api/2.0/mlflow/users',
    getUser: (username) => `/api/2.0/mlflow/users/${encodeURIComponent(username)}`,
    ui: '/oidc/ui/',
  },
  userOf: (answer) => answer,
  permissionFields: { source: 'kind', resourceUser: 'name' },
  firstStop: /\/oidc\/ui\/user$/,
  unauthenticatedApi: { kind: 'json', status: 401, body: { detail: 'Authentication required' } },
  rootWithoutSession: { status: 302, location: /\/oidc\/ui$/ },
  loginError: { kind: 'redirect-query', path: '/oidc/ui/auth', param: 'error' },
  messages: {
    notAllowed: 'User is not allowed to login',
    noGroups: 'User is not allowed to login',
    badState: 'Invalid state parameter',
    invalidScopes: ['OIDC provider error', 'Invalid scopes: openid profile email groups'],
    permissionDenied: { message: 'Permission denied' },
    tokenTooLong: { detail: 'Expiration date must be less than 1 year in the future' },
    tokenInPast: { detail: 'Expiration date must be in the future' },
  },
  badBasic: { status: 401, bodyContains: 'Authentication required' },
  badBearer: { status: 401, body: { detail: 'Authentication required' } },
  session: { mechanism: 'signed-cookie', cookie: 'session', readsSessionType: false },
  healthBody: '{"status":"ok"}',
  startupLines: ['MLflow Flask app mounted at / with FastAPI auth info passing', 'OIDC client successfully registered at startup'],
  seedLogLines: false,
  otlpTraces: true,
  pkce: false,
  defaultPermission: 'MANAGE',
  permissionCacheSeconds: 30,
  tokenExpiry: { route: '/api/2.0/mlflow/users/current', read: (a) => (a.password_expiration ? [String(a.password_expiration)] : []) },
  // the React app under /oidc/ui (ui/assets/*.js of 7.3.1): one access token per user ("Create Access Token" on the
  // user page), groups listed by name with their permissions, service accounts, AI gateway, trash, webhooks; no group
  // creation, membership or audit-log page (audit events go to the server log, logger mlflow_oidc_auth.audit)
  ui: { family: 'react-6-7', features: { groupCreation: false, groupMembership: false, auditLog: false, serviceAccounts: true, namedTokens: false } },
};
