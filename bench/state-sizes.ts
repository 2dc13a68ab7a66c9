/**
 * The largest member (and item) states a real year produces: the full Online Retail file
 * (2010-12-01 .. 2011-12-09) through all six workers on the stack, then every record's
 * encoded state size per worker. The default state cap (rules `state.maxBytes`) is four
 * times the largest one found here (docs/BENCHMARKS.md, "State size cap").
 *
 *   npm run bench:state-sizes            (stack from the environment, or the native stack)
 */
import { fileURLToPath } from 'node:url';
import { createTopics } from '../cli/commands/topics.js';
import { produceCommand } from '../cli/commands/produce.js';
import { runCommand } from '../cli/commands/run.js';
import { commandContext } from '../cli/context.js';
import { workerDefinition, workerNames } from '../services/index.js';
import { connectClients } from '../shared/clients.js';
import { scanKeysByNode } from '../shared/redis/client.js';
import { memberKeyPattern } from '../shared/redis/keys.js';
import { decodeRecord } from '../shared/redis/record-codec.js';
import { stateCodecOf } from '../shared/kernel/member-record.js';

process.env.MEMBERFLOW_NAMESPACE ??= `sizes-${Date.now().toString(36)}`;
process.env.LOG_LEVEL ??= 'warn';
const ctx = commandContext();
const retail = fileURLToPath(new URL('../data/online-retail/online-retail.csv.gz', import.meta.url));
const say = (s: string) => process.stderr.write(`${s}\n`);

await createTopics(ctx, { quiet: true });
const produced = await produceCommand(ctx, { file: retail, format: 'online-retail' });
say(`produced ${produced.sent} events in ${produced.seconds.toFixed(0)} s; running the six workers until idle`);
const started = Date.now();
const running = await runCommand(ctx, workerNames(), { exitWhenIdleMs: 5000 });
say(`workers idle after ${((Date.now() - started) / 1000).toFixed(0)} s`);

const clients = connectClients(ctx.env, ctx.log, 'memberflow-state-sizes');
const rows: {
  worker: string;
  records: number;
  meanBytes: number;
  p99Bytes: number;
  maxBytes: number;
  maxJsonBytes: number;
  refused: number;
}[] = [];
try {
  for (const [index, worker] of workerNames().entries()) {
    const sizes: number[] = [];
    let largest: { key: string; bytes: number } | null = null;
    for await (const { node, keys } of scanKeysByNode(
      clients.redis,
      memberKeyPattern(ctx.env.MEMBERFLOW_NAMESPACE, worker),
      2000,
    )) {
      const pipeline = node.pipeline();
      for (const k of keys) pipeline.getrange(k, 0, 40);
      const replies = (await pipeline.exec()) ?? [];
      keys.forEach((k, i) => {
        const header = /^\d+ (\d+) /.exec((replies[i]?.[1] as string | undefined) ?? ''); // GETRANGE answers a string
        if (!header) return;
        const bytes = Number(header[1]);
        sizes.push(bytes);
        if (!largest || bytes > largest.bytes) largest = { key: k, bytes };
      });
    }
    sizes.sort((a, b) => a - b);
    let maxJsonBytes = 0;
    const top = largest as { key: string; bytes: number } | null;
    if (top) {
      const stored = decodeRecord(await clients.redis.getBuffer(top.key), top.key);
      if (stored?.state)
        maxJsonBytes = Buffer.byteLength(JSON.stringify(stateCodecOf(workerDefinition(worker)).decode(stored.state)));
    }
    const refused = running[index]?.totals.rejections.state_too_large ?? 0;
    rows.push({
      worker,
      records: sizes.length,
      meanBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length)),
      p99Bytes: sizes[Math.floor(sizes.length * 0.99)] ?? 0,
      maxBytes: sizes[sizes.length - 1] ?? 0,
      maxJsonBytes,
      refused,
    });
  }
} finally {
  await clients.close();
}
const largestState = Math.max(...rows.map((r) => r.maxBytes));
process.stdout.write(
  `${JSON.stringify(
    {
      namespace: ctx.env.MEMBERFLOW_NAMESPACE,
      events: produced.sent,
      cap: ctx.rules.state.maxBytes,
      largestState,
      suggestedCap: 4 * largestState,
      rows,
    },
    null,
    2,
  )}\n`,
);
say('| worker | records | mean state (B) | p99 (B) | largest (B) | largest as JSON (B) | refused state_too_large |');
say('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  say(
    `| ${r.worker} | ${r.records} | ${r.meanBytes} | ${r.p99Bytes} | ${r.maxBytes} | ${r.maxJsonBytes} | ${r.refused} |`,
  );
process.exit(0);
