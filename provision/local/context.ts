import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { StackDescription } from '../config/stack.ts';
import type { StackTls } from './tls.ts';

/** Secrets generated per stack; kept in the state folder (mode 0600) and never printed. */
export interface StackSecrets {
  postgresSuperuser: string;
  postgresMlflow: string;
  s3AccessKey: string;
  s3SecretKey: string;
  keycloakAdmin: string;
  clientSecret: string;
  /** The Flask secret key the chart generates (Secret <fullname>-flask-server-secret-key) and passes to the server. */
  flaskServerSecretKey?: string;
  personas: Record<string, string>;
}

/** Loopback ports of the stack's processes (the proxy's public port comes from the description). */
export interface StackPorts {
  postgres: number;
  s3: number;
  keycloakHttp: number;
  keycloakHttps: number;
  keycloakManagement: number;
  mlflow: number;
}

/** Everything a local component needs to start. */
export interface LocalContext {
  desc: StackDescription;
  state: string;
  cache: string;
  secrets: StackSecrets;
  ports: StackPorts;
  tls: StackTls;
  readyTimeout: number;
  log(name: string): string;
}

export const logPath = (state: string, name: string) => join(state, 'logs', `${name}.log`);

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A random password of [A-Za-z0-9] (48 characters, as buun-stack's utils::random-password), URL-safe. */
export function randomPassword(length = 48): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHANUM[randomInt(ALPHANUM.length)];
  return s;
}

export function generateSecrets(desc: StackDescription): StackSecrets {
  return {
    postgresSuperuser: randomPassword(),
    postgresMlflow: randomPassword(),
    s3AccessKey: randomPassword(20),
    s3SecretKey: randomPassword(40),
    keycloakAdmin: randomPassword(),
    clientSecret: randomPassword(),
    flaskServerSecretKey: randomPassword(),
    personas: Object.fromEntries(desc.keycloak.personas.map((p) => [p.username, randomPassword(24)])),
  };
}
