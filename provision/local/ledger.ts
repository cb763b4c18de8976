import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One started process, as teardown and the orphan sweep need it. */
export interface LedgerEntry {
  pid: number;
  /** The process was started in its own process group: stop signals go to -pid. */
  group: boolean;
  /** The signal that asks it to stop cleanly (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
  ports: number[];
  log: string;
  command: string;
}

export interface Ledger {
  fingerprint: string;
  /** Fingerprints of the base stack, the realm and the MLflow server settings. */
  parts?: { base: string; realm: string; mlflow: string; edge?: string };
  /** Name of the configuration applied (`default`, or a scenario/control and its phase). */
  applied?: string;
  createdAt: string;
  /** Set once every component is ready. */
  readyAt?: string;
  /** Seconds each component (and the migration and realm set-up) took from its start to ready. */
  readySeconds?: Record<string, number>;
  /** Who brought the stack up: `provision` keeps it after tests, `test` tears it down. */
  owner: 'provision' | 'test';
  /** Loopback ports handed to the components (see StackPorts). */
  ports?: Record<string, number>;
  /** The MLflow venv the server runs from. */
  venv?: string;
  components: Record<string, LedgerEntry>;
}

/** The state folder's ledger: the only record teardown reads. */
export class LedgerFile {
  readonly path: string;
  constructor(readonly dir: string) {
    this.path = join(dir, 'ledger.json');
  }

  read(): Ledger | undefined {
    if (!existsSync(this.path)) return undefined;
    return JSON.parse(readFileSync(this.path, 'utf8')) as Ledger;
  }

  write(ledger: Ledger): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(ledger, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
  }

  update(fn: (l: Ledger) => void): void {
    const l = this.read();
    if (!l) throw new Error(`ledger ${this.path} is missing`);
    fn(l);
    this.write(l);
  }
}
