/** The numbered claims of the seed README (shared/conformance/claims.md), as data the reporter joins checks to. */
export type TargetKind = 'local' | 'k3d' | 'remote';
export interface Claim {
  id: string;
  text: string;
  targets: TargetKind[];
}

const ALL: TargetKind[] = ['local', 'k3d', 'remote'];
const LK: TargetKind[] = ['local', 'k3d'];

export const CLAIMS: Claim[] = [
  { id: 'C01', targets: ALL, text: 'MLflow is served over HTTPS at the configured host through the reverse proxy; the server is the FastAPI/ASGI app (Uvicorn) of mlflow-oidc-auth (oidc-auth-fastapi)' },
  { id: 'C02', targets: LK, text: 'PostgreSQL holds two databases: mlflow (experiments, runs, params, metrics, models) and mlflow_auth (users, groups, permissions); one PostgreSQL user mlflow can use both' },
  { id: 'C03', targets: ALL, text: 'Artifacts live in the bucket mlflow and are proxied through the MLflow server: a client with no S3 credentials can log and download artifacts; the object really lands in the bucket' },
  { id: 'C04', targets: ALL, text: 'Keycloak client mlflow is a confidential client whose redirect URI is https://{host}/callback (not /oidc/callback)' },
  { id: 'C05', targets: LK, text: 'Keycloak groups mlflow-admins and mlflow-users exist' },
  { id: 'C06', targets: ALL, text: 'The realm discovery document /.well-known/openid-configuration is served and is the one MLflow uses' },
  { id: 'C07', targets: ALL, text: 'The login request asks for scopes openid profile email groups; group membership comes from the groups claim in UserInfo' },
  { id: 'C08', targets: ALL, text: "Prometheus metrics are exposed at /metrics and count MLflow's requests" },
  { id: 'C09', targets: ALL, text: 'The server validates the Host header against its allowed hosts' },
  { id: 'C10', targets: ALL, text: 'Sessions use cachelib with a filesystem backend; a logged-in session survives across requests' },
  { id: 'C11', targets: ALL, text: 'Opening / shows a login page with a "Keycloak" button; after Keycloak login the first stop is /oidc/ui/; its "MLflow" button opens the main MLflow UI' },
  { id: 'C12', targets: ALL, text: 'Users are created automatically on first login, with the full email address as username' },
  { id: 'C13', targets: ALL, text: 'A user in neither mlflow-admins nor mlflow-users is refused at login ("Authorization error: User is not allowed to login")' },
  { id: 'C14', targets: ALL, text: 'Members of mlflow-admins have full access: all experiments and models, user and permission management' },
  { id: 'C15', targets: ALL, text: 'The creator of a new resource (experiment, registered model, prompt) gets MANAGE on it' },
  { id: 'C16', targets: ALL, text: 'Non-admin users get access according to explicit permissions (and the configured default permission)' },
  { id: 'C17', targets: ALL, text: 'The permissions UI offers "Create access key": an expiration date at most one year ahead, "Request Token", the token shown once' },
  { id: 'C18', targets: ALL, text: 'That token is an HTTP Basic password with the full email as username: the Python client logs params, metrics and artifacts with MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD' },
  { id: 'C19', targets: ALL, text: 'Basic auth with a username that is not the full email fails; the UI token sent as a Bearer token fails' },
  { id: 'C20', targets: ALL, text: 'Access tokens expire: a lifetime over one year is refused, an expired token is refused' },
  { id: 'C21', targets: ALL, text: "MLflow's standard (built-in basic-auth) credentials do not work: the plugin replaces them" },
  { id: 'C22', targets: ALL, text: 'A .env file with MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD loaded by python-dotenv is enough to log a run' },
  { id: 'C23', targets: ALL, text: "A JWT from Keycloak's password grant (client mlflow, scope openid profile email groups) works as MLFLOW_TRACKING_TOKEN" },
  { id: 'C24', targets: ALL, text: "The seed's complete example works: scikit-learn iris RandomForest, params, accuracy metric, mlflow.sklearn.log_model with an input example (signature inferred)" },
  { id: 'C25', targets: ALL, text: 'Model registry: register_model("runs:/<id>/model", name) creates a version; transition_model_version_stage(..., "Production") works' },
  { id: 'C26', targets: ALL, text: 'The permissions UI lets an admin view and change user permissions on experiments, models and prompts, and manage groups' },
  { id: 'C27', targets: ALL, text: 'LLM traces and the Prompt Registry work through the authenticated server' },
  { id: 'C28', targets: LK, text: 'Each troubleshooting case of the seed reproduces with its documented symptom and is cured by its documented fix' },
  { id: 'C29', targets: LK, text: 'A healthy server logs the seed\'s "normal" lines: FastAPI app with OIDC created, OIDC routes available, cachelib session module imported, redirect URI https://{host}/callback' },
  { id: 'C30', targets: ['k3d'], text: 'In the cluster: one mlflow-* pod running, the database migration and database check completed; the secrets and the OIDC config exist; a rollout restart brings the server back' },
  { id: 'C31', targets: LK, text: 'The custom image (and the local venv built from the same pins) reports the pinned MLflow version and has the pinned mlflow-oidc-auth and cachelib installed' },
  { id: 'C32', targets: LK, text: 'Uninstall keeps the databases when asked to, removes databases and the DB user when asked to; cleanup also removes the Keycloak client' },
];

export const claimIds = (title: string): string[] => [...title.matchAll(/\[(C\d{2})(?:,\s*(C\d{2}))*\]/g)].flatMap((m) => m[0].slice(1, -1).split(/,\s*/));
