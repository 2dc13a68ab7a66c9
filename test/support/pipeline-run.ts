/**
 * The whole pipeline on the real stack for the fault-injection suite: the six workers as OS
 * processes (so they can be SIGKILLed, SIGSTOPped, run twice), a feeder that keeps upstream
 * producing in waves while faults happen, a supervisor that restarts a worker that died on
 * its own (as a process manager would), and the comparison of every state and every output
 * topic with the pure reference runs over the logs as they ended up in Kafka.
 */
import { spawn } from 'node:child_process';
import { workers, workerDefinition, workerNames } from '../../services/index.js';
import type { Rules } from '../../shared/config/rules.js';
import { consumerGroup, type LogicalTopic } from '../../shared/contracts/topics.js';
import { readLivePointer } from '../../shared/redis/live-pointer.js';
import { referenceRun, type ReferenceResult } from '../../shared/kernel/reference-run.js';
import { defaultLimits } from '../../shared/runtime/run-worker.js';
import type { Decoded, InputRecord, OutputEvent } from '../../shared/kernel/types.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import type { RecoView } from '../../services/recommendations/model.js';
import { canon } from '../../shared/util/canon.js';
import { generateActivity, type GeneratedRecord } from './activity-generator.js';

export { canon };
import { TestStack, sleep, type ReadRecord, type WorkerProcess } from './harness.js';

/** Every worker of the registry, in pipeline order. */
export const pipeline = workerNames();
export type PipelineWorker = string;

const tickPlaceholder: Decoded<never> = {
  kind: 'rejected',
  rejection: { reason: 'tick', message: 'a tick' },
  eventId: null,
  memberId: null,
};
/** reco-members decides ids and its own state without reading the model; the items inside events do (services/recommendations/README.md). */
const emptyRecoView: RecoView = {
  stats: { state: () => undefined, members: () => 0 },
  popularity: { members: 0, global: [], categories: new Map() },
};
/** Output topics whose event contents depend on timing, compared by id only. */
const idOnlyTopics: readonly LogicalTopic[] = ['member.recommendations'];

export interface RunOptions {
  events: number;
  seed: number;
  members?: number;
  partitions?: number;
  /** A Redis database of its own (so a scenario can FLUSHDB without touching other suites). */
  redisDb?: number;
  /** Environment for every worker process (e.g. MEMBERFLOW_KAFKA_CLIENT). */
  workerEnv?: Record<string, string>;
}

interface Slot {
  worker: PipelineWorker;
  instance: number;
  child: WorkerProcess;
  /** Set when the test stops or kills it: the supervisor leaves it alone. */
  expected: boolean;
  /** It said Redis lost its state: it waits for a rebuild, not a restart. */
  stateLost: boolean;
}

export class PipelineRun {
  readonly input: GeneratedRecord[];
  private readonly slots = new Map<string, Slot>();
  /** Restart workers that die by themselves (a process manager's job), unless they report lost state. */
  supervise = true;
  restartsBySupervisor = 0;
  /** Processes that died by a failpoint (SIGKILL at an exact step), restarted by the supervisor. */
  failpointKills = 0;
  /** Warnings the workers logged that show fencing at work (old writers refused). */
  readonly fencing = { lostRace: 0, pointerMoved: 0, stateLost: 0 };
  /** Warnings that show a failover at work: batches redone until a Redis replica had their writes, consumer restarts. */
  readonly failover = { replicasBehind: 0, consumerRestarts: 0 };
  produced = 0;

  private constructor(
    readonly s: TestStack,
    readonly opts: RunOptions,
  ) {
    this.input = generateActivity(opts.events, { members: opts.members ?? 3000, seed: opts.seed });
  }

  static async create(name: string, opts: RunOptions): Promise<PipelineRun> {
    const s = await TestStack.create(name, {
      partitions: opts.partitions ?? 3,
      ...(opts.redisDb === undefined ? {} : { redisDb: opts.redisDb }),
    });
    return new PipelineRun(s, opts);
  }

  key(worker: PipelineWorker, instance: number): string {
    return `${worker}#${instance}`;
  }

  /** Starts one worker process; `failpoint` (MEMBERFLOW_FAILPOINT) makes it SIGKILL itself at an exact step later. */
  start(worker: PipelineWorker, instance = 0, failpoint?: string): WorkerProcess {
    // Small fetches: batches stay short, so kills and rebalances land mid-stream often.
    const child = this.s.spawnWorker(worker, [], {
      KAFKA_MAX_BYTES_PER_PARTITION: '262144',
      ...this.opts.workerEnv,
      ...(failpoint ? { MEMBERFLOW_FAILPOINT: failpoint } : {}),
    });
    const slot: Slot = { worker, instance, child, expected: false, stateLost: false };
    this.slots.set(this.key(worker, instance), slot);
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      this.fencing.lostRace += count(text, 'fenced write lost to another writer');
      this.fencing.pointerMoved += count(text, 'live pointer moved on');
      this.failover.replicasBehind += count(text, 'Redis replicas behind');
      this.failover.consumerRestarts += count(text, 'consumer failed; it restarts');
      const lost = count(text, 'Redis lost the state');
      this.fencing.stateLost += lost;
      if (lost > 0) slot.stateLost = true;
    });
    child.once('exit', () => {
      if (slot.expected || !this.supervise || this.slots.get(this.key(worker, instance)) !== slot) return;
      if (slot.stateLost) return; // waits for a rebuild, not a restart
      if (child.signalCode === 'SIGKILL') this.failpointKills++;
      else this.restartsBySupervisor++;
      setTimeout(() => {
        if (this.slots.get(this.key(worker, instance)) === slot && this.supervise) this.start(worker, instance);
      }, 500);
    });
    return child;
  }

  startAll(instances = 1): void {
    for (const w of pipeline) for (let i = 0; i < instances; i++) this.start(w, i);
  }

  process(worker: PipelineWorker, instance = 0): WorkerProcess | undefined {
    return this.slots.get(this.key(worker, instance))?.child;
  }

  /** Sends a signal the test means (the supervisor ignores the exit); resolves on exit. */
  async signal(worker: PipelineWorker, instance: number, sig: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const slot = this.slots.get(this.key(worker, instance));
    if (!slot || slot.child.exitCode !== null || slot.child.signalCode !== null) return;
    slot.expected = true;
    const exited = new Promise((r) => slot.child.once('exit', r));
    slot.child.kill(sig);
    await exited;
  }

  async stopAll(): Promise<void> {
    this.supervise = false;
    await Promise.all([...this.slots.values()].map((sl) => this.signal(sl.worker, sl.instance, 'SIGTERM')));
  }

  /** Whether every process of these workers has exited. */
  allExited(): boolean {
    return [...this.slots.values()].every((sl) => sl.child.exitCode !== null || sl.child.signalCode !== null);
  }

  /**
   * Produces the input in waves, each once behavior-events is within `maxLag` of the end,
   * so faults always meet a pipeline with work in flight. Retries a wave the broker refused
   * (a broker restart); a retried wave can land twice, which upstream retries do too.
   */
  async feed(
    opts: {
      wave?: number;
      maxLag?: number;
      extra?: (wave: number) => GeneratedRecord[];
      from?: number;
      to?: number;
    } = {},
  ): Promise<void> {
    const wave = opts.wave ?? 5000;
    const end = Math.round(this.input.length * (opts.to ?? 1));
    for (let i = Math.round(this.input.length * (opts.from ?? 0)), n = 0; i < end; i += wave, n++) {
      for (;;) {
        const lag = await this.lagOf('behavior-events').catch(() => Number.POSITIVE_INFINITY);
        if (lag <= (opts.maxLag ?? 5000)) break;
        await sleep(250);
      }
      const records = [...this.input.slice(i, Math.min(i + wave, end)), ...(opts.extra?.(n) ?? [])];
      for (let attempt = 1; ; attempt++) {
        try {
          await this.s.produce('activity.events', records);
          break;
        } catch (err) {
          if (attempt >= 60) throw err;
          await sleep(1000);
        }
      }
      this.produced += records.length;
    }
  }

  /** Until every worker's group has committed progress: all six are up and working, so a fault meets them running. */
  async untilAllWorking(timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const w of pipeline) {
      for (;;) {
        const pointer = await readLivePointer(this.s.clients.redis, this.s.ns, w);
        let committed = 0;
        for (const t of workers[w]!.definition.inputs)
          committed += await this.s.committedTotal(w, t, consumerGroup(pointer.namespace, w)).catch(() => 0);
        if (committed > 0) break;
        if (Date.now() > deadline) throw new Error(`${w} committed nothing within ${timeoutMs / 1000} s`);
        await sleep(250);
      }
    }
  }

  /** Records of a worker's input topics not yet committed by its live group. */
  async lagOf(worker: PipelineWorker): Promise<number> {
    const pointer = await readLivePointer(this.s.clients.redis, this.s.ns, worker);
    let lag = 0;
    for (const t of workers[worker]!.definition.inputs)
      lag += await this.s.lag(worker, t, consumerGroup(pointer.namespace, worker));
    return lag;
  }

  async totalLag(): Promise<number> {
    let lag = 0;
    for (const w of pipeline) lag += await this.lagOf(w);
    return lag;
  }

  /** Until every worker has consumed all its input, three checks in a row (a quiet chain). */
  async settle(timeoutMs = 1_200_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    while (quiet < 3) {
      if (Date.now() > deadline)
        throw new Error(
          `the pipeline did not settle within ${timeoutMs / 1000} s (lag ${await this.totalLag().catch(() => -1)})`,
        );
      const lag = await this.totalLag().catch(() => -1);
      quiet = lag === 0 ? quiet + 1 : 0;
      await sleep(quiet > 0 ? 1000 : 500);
    }
  }

  async close(): Promise<void> {
    await this.stopAll().catch(() => undefined);
    await this.s.close();
  }

  /** Runs a memberflow CLI command against this run's namespace, to its end. */
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return this.cliProcess(args).done;
  }

  /** Starts a memberflow CLI command (one that runs until stopped, like `replay run --follow`). */
  cliProcess(args: string[]): {
    child: ReturnType<typeof spawn>;
    done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  } {
    const child = spawn(process.execPath, ['bin/memberflow.js', ...args], {
      cwd: process.cwd(),
      env: { ...process.env, ...this.s.envVars() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    return { child, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))) };
  }

  /**
   * Every worker's states and every output topic against the reference runs. Each worker's
   * reference reads its input topics as they are in Kafka (so it sees the same upstream
   * duplicates and poison the worker saw), decoded by the worker's own decoder.
   */
  async compare(
    opts: {
      /** Rules a worker's state was decided under, when not the default (a promoted rule change). */
      rules?: Partial<Record<PipelineWorker, Rules>>;
      /** What a worker's output topics must hold, when not its reference run's outputs. */
      expectedOutputs?: Partial<
        Record<PipelineWorker, (log: ReferenceLog, reference: ReferenceResult<unknown>) => OutputEvent[]>
      >;
      /** Records the test wrote into an output topic itself (poison): inputs downstream, not outputs. */
      ignore?: (record: ReadRecord) => boolean;
    } = {},
  ): Promise<Comparison> {
    const topics = new Map<LogicalTopic, ReadRecord[]>();
    const read = async (t: LogicalTopic) => {
      if (!topics.has(t)) topics.set(t, await this.s.readAll(t, { timeoutMs: 300_000 }));
      return topics.get(t)!;
    };
    const result: Comparison = {
      statesCompared: 0,
      outputsCompared: 0,
      published: 0,
      conflicting: 0,
      mismatches: 0,
      samples: [],
      perTopic: {},
      dlq: { expected: 0, distinct: 0 },
    };
    const miss = (what: string) => {
      result.mismatches++;
      if (result.samples.length < 20) result.samples.push(what);
    };
    const expected = new Map<LogicalTopic, Map<string, unknown>>();
    for (const w of pipeline) {
      const entry = workers[w]!;
      const rules = opts.rules?.[w] ?? this.s.rules;
      const decoder = entry.decoder(this.s.clients.codec, () => rules);
      const log: ReferenceLog = [];
      for (const t of entry.definition.inputs) {
        for (const record of await read(t))
          log.push({ record, decoded: record.tick !== undefined ? tickPlaceholder : await decoder.decode(record) });
      }
      const options = {
        ...(entry.definition.forwardTicksTo ? { forwardTicksTo: entry.definition.forwardTicksTo } : {}),
        ...(w === 'reco-members' ? { view: () => emptyRecoView } : {}),
      };
      const reference = referenceRun(
        entry.definition,
        log,
        rules,
        defaultLimits(rules),
        options,
      ) as ReferenceResult<unknown>;
      const outputs = opts.expectedOutputs?.[w]?.(log, reference) ?? reference.outputs;
      for (const o of outputs) {
        if (o.tick) continue;
        let m = expected.get(o.topic);
        if (!m) expected.set(o.topic, (m = new Map<string, unknown>()));
        m.set(o.id, o.value);
      }
      // States: every key the reference has, with its value, and no key it lacks.
      const pointer = await readLivePointer(this.s.clients.redis, this.s.ns, w);
      const store = new MemberStore<unknown>(this.s.clients.redis, pointer.namespace, workerDefinition(w));
      const ids = [...reference.states.keys()];
      for (let i = 0; i < ids.length; i += 2000) {
        const loaded = await store.load(ids.slice(i, i + 2000));
        for (const id of ids.slice(i, i + 2000)) {
          if (canon(loaded.get(id)?.record.state ?? null) !== canon(reference.states.get(id)))
            miss(`${w} state of ${id}`);
        }
      }
      let stored = 0;
      for await (const [id] of store.scanStates()) {
        stored++;
        if (!reference.states.has(id)) miss(`${w} has a state for ${id} the reference has not`);
      }
      if (stored !== reference.states.size)
        miss(`${w}: ${stored} states in Redis, ${reference.states.size} in the reference`);
      result.statesCompared += reference.states.size;
    }
    for (const [topic, want] of expected) {
      const records = (await read(topic)).filter((r) => r.tick === undefined && !opts.ignore?.(r));
      const first = new Map<string, { canon: string; decoded: unknown; at: string }>();
      // Where the first copy and the first differing copy of an id are: which process wrote which, and when.
      const conflicts = new Map<string, string>();
      const at = (r: ReadRecord) =>
        `partition ${r.partition} offset ${r.offset} at ${new Date(r.timestamp).toISOString()}`;
      for (const r of records) {
        const c = canon(r.decoded);
        const seen = first.get(r.id!);
        if (seen === undefined) first.set(r.id!, { canon: c, decoded: r.decoded, at: at(r) });
        else if (seen.canon !== c && !conflicts.has(r.id!))
          conflicts.set(r.id!, `first copy ${seen.at}, a different one ${at(r)}`);
      }
      const idsOnly = idOnlyTopics.includes(topic);
      for (const [id, v] of want) {
        const got = first.get(id);
        if (got === undefined) miss(`${topic}: ${id} missing`);
        else if (!idsOnly && got.canon !== canon(v))
          miss(
            `${topic}: ${id} differs (${fieldDiff(got.decoded, v)})${conflicts.has(id) ? `; ${conflicts.get(id)!}` : ''}`,
          );
      }
      for (const id of first.keys()) if (!want.has(id)) miss(`${topic}: ${id} not in the reference`);
      result.perTopic[topic] = {
        expected: want.size,
        published: records.length,
        distinct: first.size,
        conflicting: conflicts.size,
      };
      result.outputsCompared += want.size;
      result.published += records.length;
      result.conflicting += conflicts.size;
      if (topic === 'activity.dlq') result.dlq = { expected: want.size, distinct: first.size };
    }
    this.topicsRead = topics;
    return result;
  }

  /** The topics as the last comparison read them. */
  topicsRead = new Map<LogicalTopic, ReadRecord[]>();
}

export type ReferenceLog = Array<{ record: InputRecord; decoded: Decoded<unknown> }>;

export interface Comparison {
  statesCompared: number;
  /** Distinct output ids the references expect, all topics. */
  outputsCompared: number;
  /** Records on the output topics (copies included). */
  published: number;
  /** Ids with two copies that differ: a consumer deduplicating by id would see two versions. */
  conflicting: number;
  mismatches: number;
  samples: string[];
  perTopic: Record<string, { expected: number; published: number; distinct: number; conflicting: number }>;
  dlq: { expected: number; distinct: number };
}

/** Which top-level fields of a published value differ from the expected one, as `field: got → want`. */
export function fieldDiff(got: unknown, want: unknown): string {
  if (typeof got !== 'object' || got === null || typeof want !== 'object' || want === null)
    return `${canon(got)} → ${canon(want)}`;
  const g = got as Record<string, unknown>;
  const w = want as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(g), ...Object.keys(w)])].sort();
  return keys
    .filter((k) => canon(g[k] ?? null) !== canon(w[k] ?? null))
    .map((k) => `${k}: ${canon(g[k] ?? null)} → ${canon(w[k] ?? null)}`)
    .join('; ');
}

function count(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}
