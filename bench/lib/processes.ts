/**
 * Processes the bench measures: workers through the CLI, and the reference consumers, each
 * with the probe preloaded (bench/probe/process-probe.mjs) so its CPU time, peak RSS and Redis
 * round trips are known when it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const probe = fileURLToPath(new URL('../probe/process-probe.mjs', import.meta.url));

export interface ProcessStats {
  name: string;
  cpuSeconds: number;
  peakRssMiB: number;
  redisRoundTrips: number;
  wallSeconds: number;
  /** From the process's own totals (MEMBERFLOW_TOTALS_FILE): records, and first batch start to last batch end. */
  batches: { records: number; seconds: number } | null;
}

export class MeasuredProcess {
  private readonly child: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'memberflow-bench-'));
  private stderr = '';
  private readonly exited: Promise<number | null>;

  /** `script`: a path under the repository; workers run through bin/memberflow.js, the rest through tsx. */
  constructor(
    readonly name: string,
    script: string,
    args: string[],
    env: Record<string, string>,
  ) {
    // BENCH_CPU_PROFILE_DIR: each measured process writes a V8 CPU profile there (open it in Chrome DevTools).
    const profiling = process.env.BENCH_CPU_PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`]
      : [];
    const nodeArgs = [
      ...profiling,
      ...(script.endsWith('.js') ? [] : ['--import', 'tsx']),
      '--import',
      probe,
      script,
      ...args,
    ];
    this.child = spawn(process.execPath, nodeArgs, {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...env,
        MEMBERFLOW_BENCH_PROBE_FILE: join(this.dir, 'probe.json'),
        MEMBERFLOW_TOTALS_FILE: join(this.dir, 'totals.json'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-6000)));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  static worker(name: string, env: Record<string, string>): MeasuredProcess {
    return new MeasuredProcess(name, 'bin/memberflow.js', ['run', name], env);
  }

  /** Whether it exited on its own (a crash the bench must report rather than measure). */
  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  failure(): string {
    return `${this.name} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}):\n${this.stderr}`;
  }

  /** SIGTERM, wait for the exit, and read what the probe wrote. */
  async stop(): Promise<ProcessStats> {
    if (!this.hasExited) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
    try {
      const p = JSON.parse(readFileSync(join(this.dir, 'probe.json'), 'utf8')) as {
        cpuUserMs: number;
        cpuSystemMs: number;
        maxRssBytes: number;
        redisRoundTrips: number;
        uptimeMs: number;
      };
      return {
        name: this.name,
        cpuSeconds: (p.cpuUserMs + p.cpuSystemMs) / 1000,
        peakRssMiB: p.maxRssBytes / 1048576,
        redisRoundTrips: p.redisRoundTrips,
        wallSeconds: p.uptimeMs / 1000,
        batches: this.readTotals(),
      };
    } catch {
      throw new Error(`${this.name}: no probe report (the process did not exit cleanly)\n${this.stderr}`);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Sums the totals of every worker the process ran (the reference consumers write one entry). */
  private readTotals(): ProcessStats['batches'] {
    let all: Record<string, { records: number; firstBatchStartedAt: number | null; lastBatchEndedAt: number | null }>;
    try {
      all = JSON.parse(readFileSync(join(this.dir, 'totals.json'), 'utf8')) as typeof all;
    } catch {
      return null;
    }
    const entries = Object.values(all).filter((t) => t.firstBatchStartedAt !== null && t.lastBatchEndedAt !== null);
    if (entries.length === 0) return null;
    const first = Math.min(...entries.map((t) => t.firstBatchStartedAt!));
    const last = Math.max(...entries.map((t) => t.lastBatchEndedAt!));
    return { records: entries.reduce((n, t) => n + t.records, 0), seconds: (last - first) / 1000 };
  }
}
