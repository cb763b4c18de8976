import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { TargetDescriptor } from '../../provision/targets/descriptor.ts';

/** Runs one query as the PostgreSQL superuser of the local stack (database `postgres`). */
export async function superuserQuery(target: TargetDescriptor, sql: string): Promise<Record<string, unknown>[]> {
  const secrets = JSON.parse(readFileSync(target.secretsFile!, 'utf8')) as { postgresSuperuser: string };
  const client = new pg.Client({ host: target.internal!.postgres.host, port: target.internal!.postgres.port, user: 'postgres', password: secrets.postgresSuperuser, database: 'postgres' });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
