import type { SettingChange } from '../config/pin-sets.ts';
import type { MlflowServerSettings } from '../config/stack.ts';

/** How the server answers an API call that carries no credentials. */
export type UnauthenticatedAnswer =
  /** 5.x: HTTP 200 with the plugin's HTML login page (no data). */
  | { kind: 'login-page'; status: 200; marker: string }
  /** 6.x+: HTTP 401 with a JSON body. */
  | { kind: 'json'; status: 401; body: Record<string, unknown> };

/** How a failed login is shown to the user after /callback. */
export type LoginErrorPage =
  /** 5.x: /callback answers 200 with the login page, the errors as <li> items. */
  | { kind: 'login-page-list' }
  /** 6.x+: /callback redirects to the UI with the error in a query parameter. */
  | { kind: 'redirect-query'; path: string; param: string };

/**
 * The contracts of one generation of mlflow-oidc-auth that the harness and the specs depend on. Specs call the
 * adapter of the pins under test (`adapterFor(target.pins.mlflowOidcAuth)`) and never branch on versions.
 */
export interface PluginAdapter {
  /** Short name of the generation, e.g. `5`, `6-7`, `8-11`. */
  generation: string;
  /** The plugin versions it covers (semver range). */
  range: string;
  /** `mlflow.app` entry points the generation provides (`mlflow server --app-name`). */
  appNames: string[];
  /** Changes the description needs before this generation starts, each with its reason (none when it fits). */
  requiredSettings(settings: MlflowServerSettings): SettingChange[];
  routes: {
    /** GET: the authenticated user (username, is_admin, groups …). */
    currentUser: string;
    /** PATCH {username, expiration}: mint an access token (the UI's "Create access key"). */
    accessToken: string;
    /** POST {username, display_name, is_service_account}: create a user (admin); answers 201. */
    createUser: string;
    /** DELETE {username}: delete a user (admin). */
    deleteUser: string;
    /** GET: one user (admin). */
    getUser(username: string): string;
    /** The permissions UI entry point. */
    ui: string;
  };
  /** The user object inside the answer of `getUser`. */
  userOf(answer: Record<string, unknown>): Record<string, unknown>;
  /** Field names in permission listings: the source of a user's permission, and the user of a resource's rows. */
  permissionFields: { source: 'type' | 'kind'; resourceUser: 'username' | 'name' };
  /** Path (regex source) the browser lands on after a successful login. */
  firstStop: RegExp;
  unauthenticatedApi: UnauthenticatedAnswer;
  /** What a page load of / (Accept: text/html) answers without a session: the login page (5.x) or a redirect into the UI (6.x+). */
  rootWithoutSession: { status: number; location?: RegExp };
  loginError: LoginErrorPage;
  /** Exact messages of refused logins. */
  messages: {
    notAllowed: string;
    noGroups: string;
    badState: string;
    /** Errors shown when Keycloak refuses the requested scopes (the groups scope is not on the client). */
    invalidScopes: string[];
    permissionDenied: Record<string, unknown>;
    tokenTooLong: Record<string, unknown>;
    tokenInPast: Record<string, unknown>;
  };
  /** Answer to a Basic header with a wrong password. */
  badBasic: { status: 401; bodyContains: string; wwwAuthenticate?: string };
  /** Answer to a Bearer value that is not a JWT (the UI token). */
  badBearer: { status: 401; body?: Record<string, unknown> };
  session: {
    /** cachelib files (5.x), Starlette's signed cookie (6.x–7.12), a server-side session row (7.13+). */
    mechanism: 'cachelib-filesystem' | 'signed-cookie' | 'server-side';
    cookie: string;
    /** Whether SESSION_TYPE / SESSION_CACHE_DIR are read at all. */
    readsSessionType: boolean;
  };
  /** GET /health body. */
  healthBody: string | RegExp;
  /** INFO lines a healthy server logs at start. */
  startupLines: string[];
  /** The seed's "normal" log lines (FastAPI app created, cachelib session module) belong to this generation. */
  seedLogLines: boolean;
  /** The OTLP route /v1/traces is mounted (spans of traces are stored). */
  otlpTraces: boolean;
  /** The authorization request carries a PKCE code_challenge. */
  pkce: boolean;
  /** DEFAULT_MLFLOW_PERMISSION when unset. */
  defaultPermission: string;
  /**
   * How long a resolved permission may be served from the plugin's cache after it changed (seconds): 0 when there is
   * no cache (5.x); PERMISSION_CACHE_TTL_SECONDS (30) from 7.x, where a store write flushes only the cache of the
   * server worker that handled it (reference §11).
   */
  permissionCacheSeconds: number;
  /** Where the server records an access token's expiry: GET `route` as the token's user; `read` gives the expiries it lists. */
  tokenExpiry: { route: string; read(answer: Record<string, unknown>): string[] };
  /** The permissions UI: which page objects drive it and what it offers. */
  ui: PermissionsUi;
}

/** The UI families the browser checks have page objects for (specs/ui/pages/). */
export type UiFamily = 'angular-5' | 'react-6-7' | 'react-8-11';

/**
 * The permissions UI of a generation: the page objects that drive it, and what it offers beyond or short of the seed's
 * description ("create and manage groups", "view audit logs"; service accounts and named tokens the seed does not name).
 */
export interface PermissionsUi {
  family: UiFamily;
  features: {
    /** An admin can create a group in the UI. */
    groupCreation: boolean;
    /** An admin can add or remove a group's members in the UI. */
    groupMembership: boolean;
    /** The UI shows an audit log (page, tab or link). */
    auditLog: boolean;
    /** The UI lists and creates service accounts. */
    serviceAccounts: boolean;
    /** Each user has several named access tokens (listed, created, deleted) instead of one. */
    namedTokens: boolean;
  };
}
