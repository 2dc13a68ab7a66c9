import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { workerNames } from '../../services/index.js';
import { freePort, TestStack, waitFor } from '../support/harness.js';

/**
 * There is no Docker engine here, so the Dockerfile and the compose file are checked without one:
 * Debian's docker-compose validates the compose file, and the Dockerfile's own steps (its COPY,
 * RUN, ENV, WORKDIR and ENTRYPOINT/CMD, stage by stage) run in fresh directories standing for each
 * stage's /app. The image's command then starts a worker against the real stack. A step that
 * would not work in the image fails here.
 */
interface Step {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  steps: Step[];
}

function dockerfileStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op === 'FROM') stages.push({ name: /AS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length), steps: [] });
    else stages[stages.length - 1]!.steps.push({ op: op!, args });
  }
  return stages;
}

describe('Dockerfile and docker-compose.yml, without a Docker engine', () => {
  let s: TestStack;
  const roots: string[] = [];
  beforeAll(async () => {
    s = await TestStack.create('image');
  });
  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('docker-compose validates the compose file; it runs every worker from the Dockerfile image', () => {
    const config = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      encoding: 'utf8',
      env: { ...process.env, MEMBERFLOW_NAMESPACE: 'mf' },
    });
    const services = (
      parse(config) as { services: Record<string, { image?: string; build?: unknown; command?: string[] }> }
    ).services;
    for (const w of workerNames()) {
      expect(services[w]?.image, w).toBe('memberflow:local');
      expect(services[w]?.command, w).toEqual(['run', w]);
    }
    expect(services.topics?.build).toBeDefined();
  });

  it(
    "the Dockerfile's install and build steps work in a fresh directory, and its command starts a worker",
    { timeout: 900_000 },
    async () => {
      const stages = dockerfileStages(readFileSync('Dockerfile', 'utf8'));
      expect(stages.map((st) => st.name)).toEqual(['build', 'runtime']);
      const ignored = readFileSync('.dockerignore', 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const dirs = new Map<string, string>();
      let entry: string[] = [];
      let cmd: string[] = [];
      let env: Record<string, string> = {};
      for (const stage of stages) {
        const root = mkdtempSync(join(tmpdir(), `mf-image-${stage.name}-`));
        roots.push(root);
        dirs.set(stage.name, root);
        env = {};
        const workdir = root;
        for (const { op, args } of stage.steps) {
          if (op === 'WORKDIR') {
            expect(args).toBe('/app'); // each stage's directory stands for /app
          } else if (op === 'ENV') {
            const [k, v] = args.split('=');
            env[k!] = v!;
          } else if (op === 'COPY') {
            // Docker's rules: a directory's contents go into the destination; a file goes into it by name.
            const from = /^--from=(\S+)\s+/.exec(args);
            const parts = args.replace(/^--from=\S+\s+/, '').split(/\s+/);
            const dest = join(workdir, parts.pop()!);
            const base = from ? dirs.get(from[1]!)! : process.cwd();
            mkdirSync(dest, { recursive: true });
            for (const src of parts) {
              const source = join(base, from ? src.replace(/^\/app\//, '') : src);
              // .dockerignore applies to the build context, not to files from another stage.
              const filter = (p: string) =>
                from !== null || !ignored.some((i) => p.includes(`/${i}/`) || p.endsWith(`/${i}`));
              cpSync(source, statSync(source).isDirectory() ? dest : join(dest, basename(source)), {
                recursive: true,
                filter,
              });
            }
          } else if (op === 'RUN') {
            execFileSync('sh', ['-c', args], {
              cwd: workdir,
              env: { ...process.env, ...env },
              stdio: ['ignore', 'ignore', 'inherit'],
              timeout: 600_000,
            });
          } else if (op === 'ENTRYPOINT') {
            entry = JSON.parse(args) as string[];
          } else if (op === 'CMD') {
            cmd = JSON.parse(args) as string[];
          } else {
            expect(['USER', 'EXPOSE', 'HEALTHCHECK'], `${op} is not run here`).toContain(op);
          }
        }
      }
      const runtime = dirs.get('runtime')!;
      // Production dependencies only: no compiler, no test runner.
      expect(() => execFileSync('node', ['-e', "import('typescript')"], { cwd: runtime, stdio: 'ignore' })).toThrow();
      expect(() => execFileSync('node', ['-e', "import('vitest')"], { cwd: runtime, stdio: 'ignore' })).toThrow();
      expect(entry).toEqual(['node', 'bin/memberflow.js']);
      expect(cmd).toEqual(['run', 'all']);

      // The image's command, one worker, against the real stack; its health check's URL answers.
      const port = await freePort();
      const child = spawn(entry[0]!, [...entry.slice(1), 'run', 'behavior-events'], {
        cwd: runtime,
        env: { ...process.env, ...s.envVars(), ...env, MEMBERFLOW_METRICS_PORT: String(port) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      try {
        expect(env.NODE_ENV).toBe('production');
        let last = '';
        await waitFor(
          async () => {
            const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
            last = res ? `${res.status} ${await res.text()}` : 'no answer';
            return res?.status === 200;
          },
          90_000,
          'the worker from the image to be ready',
        ).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}; last /readyz: ${last}; stderr:\n${stderr}`);
        });
      } finally {
        child.kill('SIGTERM');
      }
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code).toBe(0);
    },
  );
});
