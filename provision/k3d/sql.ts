import type { StackDescription } from '../config/stack.ts';
import { secret } from './placeholders.ts';

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * psql script of buun-stack's setup-postgres-db (mlflow/justfile@0973559) with postgres::create-db, create-user and
 * grant (postgres/justfile@0973559), and keycloak's `postgres::create-db keycloak` (keycloak/justfile@0973559):
 * databases mlflow, mlflow_auth and keycloak (owner postgres), user mlflow with its password, and for each
 * MLflow database ALL PRIVILEGES on it and CREATE on schema public. Rerunnable: existing databases are kept and
 * the user's password is set again. Fed on stdin, so the password never appears in a command line.
 */
export function databasesScript(desc: StackDescription): string {
  const { user, databases } = desc.postgres;
  const lines: string[] = [];
  for (const db of [databases.tracking, databases.auth, databases.keycloak]) {
    lines.push(`SELECT ${literal(`CREATE DATABASE ${ident(db)}`)} WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${literal(db)})\\gexec`);
  }
  const password = literal(secret('postgresMlflow'));
  lines.push(
    `DO $$ BEGIN`,
    `  IF EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(user)}) THEN ALTER USER ${ident(user)} WITH LOGIN PASSWORD ${password};`,
    `  ELSE CREATE USER ${ident(user)} WITH LOGIN PASSWORD ${password}; END IF;`,
    `END $$;`,
  );
  for (const db of [databases.tracking, databases.auth]) {
    lines.push(`GRANT ALL PRIVILEGES ON DATABASE ${ident(db)} TO ${ident(user)};`, `\\connect ${ident(db)}`, `GRANT CREATE ON SCHEMA public TO ${ident(user)};`);
  }
  return `${lines.join('\n')}\n`;
}
