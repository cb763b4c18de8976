import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import type { LocalContext } from '../context.ts';
import type { LedgerEntry } from '../ledger.ts';
import { spawnDetached, waitReady } from '../process.ts';

export const NAME = 's3';

export function endpoint(ctx: LocalContext): string {
  return `http://127.0.0.1:${ctx.ports.s3}`;
}

export function client(ctx: LocalContext): S3Client {
  return new S3Client({
    endpoint: endpoint(ctx),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ctx.secrets.s3AccessKey, secretAccessKey: ctx.secrets.s3SecretKey },
  });
}

/** versitygw serving a POSIX folder under the state folder, with generated root credentials. */
export function start(ctx: LocalContext, exe: string): LedgerEntry {
  const data = join(ctx.state, 's3', 'data');
  mkdirSync(data, { recursive: true });
  return spawnDetached({
    name: NAME,
    command: exe,
    args: ['--port', `127.0.0.1:${ctx.ports.s3}`, '--region', 'us-east-1', 'posix', data],
    env: { PATH: process.env.PATH, ROOT_ACCESS_KEY: ctx.secrets.s3AccessKey, ROOT_SECRET_KEY: ctx.secrets.s3SecretKey },
    log: ctx.log(NAME),
    ports: [ctx.ports.s3],
  });
}

export async function ready(ctx: LocalContext, entry: LedgerEntry): Promise<void> {
  const s3 = client(ctx);
  await waitReady(entry, 'S3 (versitygw)', `ListBuckets on ${endpoint(ctx)}`, async () => {
    await s3.send(new ListBucketsCommand({}));
    return true;
  }, ctx.readyTimeout);
}

/** The bucket MLflow proxies artifacts to. */
export async function configure(ctx: LocalContext): Promise<void> {
  const s3 = client(ctx);
  const Bucket = ctx.desc.s3.bucket;
  try {
    await s3.send(new HeadBucketCommand({ Bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket }));
  }
}
