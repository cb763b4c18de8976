import * as keycloak from './keycloak.ts';
import * as mlflow from './mlflow.ts';
import * as postgres from './postgres.ts';
import * as proxy from './proxy.ts';
import * as s3 from './s3.ts';

/** Start order of the local components; teardown goes in reverse. */
export const COMPONENTS = [postgres.NAME, s3.NAME, keycloak.NAME, proxy.NAME, mlflow.NAME] as const;

export { keycloak, mlflow, postgres, proxy, s3 };
