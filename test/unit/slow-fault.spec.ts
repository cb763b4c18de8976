import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { slowProcess } from '../../provision/local/running-stack.ts';

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function cpuOver(pid: number, ms: number): Promise<number> {
  const before = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, ms));
  return cpuSeconds(pid) - before;
}

test('the slow fault lets a busy process run only its share of the time, and full speed returns when it ends', async () => {
  test.skip(process.platform !== 'linux', 'reads CPU time from /proc');
  const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const free = await cpuOver(busy.pid!, 1000);
    const end = slowProcess(busy.pid!, 20);
    let slowed: number;
    try {
      slowed = await cpuOver(busy.pid!, 1000);
    } finally {
      end();
    }
    const after = await cpuOver(busy.pid!, 1000);
    // on a loaded 2-core machine the free process may get well under a core: what counts is that the slowed
    // second gets at most about its 20 %, far less than the same process before and after
    expect(free).toBeGreaterThan(0.25);
    expect(slowed).toBeLessThan(0.35);
    expect(slowed).toBeLessThan(free / 2);
    expect(after).toBeGreaterThan(slowed * 2);
    expect(after).toBeGreaterThan(0.25);
  } finally {
    busy.kill('SIGKILL');
  }
});
