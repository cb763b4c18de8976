/** Progress output for long steps: one line when a step starts, one with its duration when it ends. */
const t0 = Date.now();
const quiet = () => process.env.HARNESS_QUIET === '1';

export function info(message: string): void {
  if (quiet()) return;
  try {
    process.stderr.write(`${message}\n`);
  } catch {
    /* the terminal is gone (EPIPE): the work goes on */
  }
}

export async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  info(`▶ ${title}`);
  try {
    const result = await fn();
    info(`✔ ${title} (${seconds(Date.now() - started)})`);
    return result;
  } catch (error) {
    info(`✖ ${title} (${seconds(Date.now() - started)})`);
    throw error;
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function sinceStart(): string {
  return seconds(Date.now() - t0);
}
