import type { PluginAdapter } from './adapter.ts';

/**
 * mlflow-oidc-auth 5.x (the seed's 5.6.1): a Flask app with Flask-Session, served under Uvicorn through the
 * `oidc-auth-fastapi` wrapper. Facts read from the 5.6.1 wheel and observed on the local stack.
 */
export const gen5: PluginAdapter = {
  generation: '5',
  range: '>=5.0.0 <6.0.0',
  appNames: ['oidc-auth', 'oidc-auth-flask', 'oidc-auth-fastapi'],
  requiredSettings: () => [],
  routes: {
    currentUser: '/api/2.0/mlflow/permissions/users/current',
    accessToken: '/api/2.0/mlflow/permissions/users/access-token',
    createUser: '/api/2.0/mlflow/users/create',
    deleteUser: '/api/2.0/mlflow/users/delete',
    getUser: (username) => `/api/2.0/mlflow/users/get?username=${encodeURIComponent(username)}`,
    ui: '/oidc/ui/',
  },
  userOf: (answer) => answer.user as Record<string, unknown>,
  permissionFields: { source: 'type', resourceUser: 'username' },
  firstStop: /\/oidc\/ui\/$/,
  // hooks/before_request.py: no credentials → render the login page (200), unless AUTOMATIC_LOGIN_REDIRECT
  unauthenticatedApi: { kind: 'login-page', status: 200, marker: '<title>Login</title>' },
  rootWithoutSession: { status: 200 },
  loginError: { kind: 'login-page-list' },
  messages: {
    notAllowed: 'Authorization error: User is not allowed to login.',
    noGroups: 'Group detection error: Failed to get user groups',
    badState: 'Security error: Invalid state parameter. Possible CSRF detected.',
    invalidScopes: ['OIDC provider error: An error occurred during the OIDC authentication process.', 'Invalid scopes: openid profile email groups'],
    permissionDenied: { message: 'Permission denied' },
    tokenTooLong: { message: 'Expiration date must be less than 1 year in the future' },
    tokenInPast: { message: 'Expiration date must be in the future' },
  },
  badBasic: { status: 401, bodyContains: 'You are not authenticated', wwwAuthenticate: 'Basic realm="mlflow"' },
  badBearer: { status: 401, body: { message: 'Authentication required' } },
  session: { mechanism: 'cachelib-filesystem', cookie: 'session', readsSessionType: true },
  healthBody: 'OK',
  startupLines: ['Successfully created FastAPI app with OIDC integration', 'OIDC routes, authentication, and UI should now be available'],
  seedLogLines: true,
  otlpTraces: false,
  pkce: false,
  defaultPermission: 'MANAGE',
  permissionCacheSeconds: 0,
  tokenExpiry: { route: '/api/2.0/mlflow/permissions/users/current', read: (a) => (a.password_expiration ? [String(a.password_expiration)] : []) },
  // the Angular app (ui/main.*.js): five "Manage" tabs, service accounts under "Users permissions"; no group creation,
  // membership or audit log (the word does not occur in its bundles)
  ui: { family: 'angular-5', features: { groupCreation: false, groupMembership: false, auditLog: false, serviceAccounts: true, namedTokens: false } },
};
