import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClients, type Clients } from '../../shared/clients.js';
import { loadEnv } from '../../shared/config/env.js';
import { createProducer } from '../../shared/kafka/client.js';
import { readToEnd } from '../../shared/kafka/read-to-end.js';
import type { RunningWorker } from '../../shared/runtime/worker-options.js';
import { TestStack, waitFor } from '../support/harness.js';

/**
 * memberflow on a locked-down Kafka: the native stack's secured broker (`stack.sh up --secure`:
 * SASL_SSL only, SCRAM-SHA-512 users, client certificates required, KRaft's StandardAuthorizer
 * allowing nothing without an ACL). The test's namespace gets memberflow's ACLs (kafka/acls.ts)
 * for three principals; an upstream app writes activity, behavior-events runs on kafkajs and
 * points-accrual on the confluent client as the workers' principal, a notifier reads the outputs;
 * what each principal may not do is refused by the broker.
 */
describe('a secured Kafka: SASL/SCRAM over TLS with client certificates, and ACLs', () => {
  let dir: string;
  let brokers: string;
  let s: TestStack;
  const opened: Clients[] = [];
  const running: RunningWorker[] = [];

  /** memberflow's settings for a principal of the secured broker, as an operator would set them. */
  /** `extra`: settings to add, or to leave out with an empty value. */
  const envOf = (user: string, extra: Record<string, string> = {}): Record<string, string> => {
    const env: Record<string, string> = {
      KAFKA_BROKERS: brokers,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD: readFileSync(join(dir, `${user}.password`), 'utf8').trim(),
      KAFKA_TLS_CA_FILE: join(dir, 'ca.crt'),
      KAFKA_TLS_CERT_FILE: join(dir, 'client.crt'),
      KAFKA_TLS_KEY_FILE: join(dir, 'client.key'),
      ...extra,
    };
    return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  };
  const kafkaOf = (user: string, extra: Record<string, string> = {}): Kafka => {
    const base = {
      SCHEMA_REGISTRY_URL: s.env.SCHEMA_REGISTRY_URL,
      REDIS_URL: s.env.REDIS_URL,
      MEMBERFLOW_NAMESPACE: s.ns,
    };
    const clients = connectClients(loadEnv({ ...base, ...envOf(user, extra) }), s.log, `test-${user}`);
    opened.push(clients);
    return clients.kafka;
  };

  beforeAll(async () => {
    const up = spawnSync('bash', ['stack/stack.sh', 'up', '--secure'], { encoding: 'utf8', timeout: 300_000 });
    if (up.status !== 0) throw new Error(`stack/stack.sh up --secure failed:\n${up.stderr}`);
    const env = Object.fromEntries(
      up.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    );
    brokers = env.KAFKA_SECURE_BROKERS!;
    dir = env.KAFKA_SECURE_DIR!;
    // The admin (a super user) makes the namespace's topics and memberflow's ACLs.
    s = await TestStack.create('kafka-sasl', { partitions: 2, env: envOf('admin') });
    // memberflow's ACLs for the namespace, through the CLI as an operator runs it (defaults: User:app, User:workers, User:notifier).
    const acls = spawnSync(process.execPath, ['bin/memberflow.js', 'acls', 'apply'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        ...envOf('admin'),
        MEMBERFLOW_NAMESPACE: s.ns,
        SCHEMA_REGISTRY_URL: s.env.SCHEMA_REGISTRY_URL,
        REDIS_URL: s.env.REDIS_URL,
        REDIS_CLUSTER_NODES: '',
      },
    });
    if (acls.status !== 0 || !/\d+ ACLs applied/.test(acls.stdout))
      throw new Error(`memberflow acls apply failed:\n${acls.stdout}${acls.stderr}`);
  }, 360_000);
  afterAll(async () => {
    for (const w of running) await w.stop().catch(() => undefined);
    for (const c of opened) await c.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
  });

  const start = (name: 'behavior-events' | 'points-accrual', kafka: Kafka) =>
    s.startWorker(name, { kafka }).then((w) => {
      running.push(w);
      return w;
    });

  it(
    'runs the pipeline with least privilege: app writes activity, workers (both clients) process, notifier reads',
    { timeout: 180_000 },
    async () => {
      const app = createProducer(kafkaOf('app'));
      await app.connect();
      const events = ['ann', 'ben', 'cat'].flatMap((m) =>
        [1, 2].map((i) => ({
          eventId: `sec-${m}-${i}`,
          userId: m,
          type: 'purchase',
          occurredAt: Date.UTC(2026, 0, 5, i),
          amountFen: 2_000,
          itemId: 'course-3',
          category: 'cat-3',
        })),
      );
      await app.send({
        topic: s.topic('activity.events'),
        acks: -1,
        messages: events.map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
      });
      await app.disconnect();
      await start('behavior-events', kafkaOf('workers'));
      await start('points-accrual', kafkaOf('workers', { MEMBERFLOW_KAFKA_CLIENT: 'confluent' }));
      await s.waitForLag0('behavior-events', 'activity.events', 120_000);
      await waitFor(
        async () => (await s.committedTotal('points-accrual', 'behavior.events')) >= events.length,
        120_000,
        'points-accrual to commit the behavior events',
      );
      // The notifier reads memberflow's outputs (read_committed) under a group of its own prefix.
      const notifier = kafkaOf('notifier');
      const read = async (logical: 'behavior.events' | 'points.ledger') => {
        let n = 0;
        await readToEnd(notifier, s.topic(logical), `${s.ns}.notifier`, () => {
          n++;
        });
        return n;
      };
      expect(await read('behavior.events')).toBe(events.length);
      await waitFor(
        async () => (await read('points.ledger')) >= events.length,
        30_000,
        'the ledger entries to be readable by the notifier',
      );
    },
  );

  it(
    'refuses what each principal may not do, and anyone without a certificate or the password',
    { timeout: 120_000 },
    async () => {
      const refused = (p: Promise<unknown>) =>
        p.then(
          () => 'allowed',
          (err: unknown) => `${(err as Error).name}: ${(err as Error).message}`,
        );
      // The app cannot write memberflow's own topics, nor read its outputs.
      const app = createProducer(kafkaOf('app'));
      await app.connect();
      expect(
        await refused(app.send({ topic: s.topic('behavior.events'), acks: -1, messages: [{ key: 'x', value: '{}' }] })),
      ).toMatch(/authoriz/i);
      await app.disconnect();
      const appReader = kafkaOf('app').consumer({ groupId: `${s.ns}.app-reader` });
      await appReader.connect();
      expect(
        await refused(
          appReader
            .subscribe({ topic: s.topic('member.tier-changes'), fromBeginning: true })
            .then(() => appReader.run({ eachMessage: () => Promise.resolve() }))
            .then(() => waitFor(() => false, 5_000, 'never')),
        ),
      ).toMatch(/authoriz/i);
      await appReader.disconnect();
      // The notifier writes nothing, not even activity.
      const notifier = createProducer(kafkaOf('notifier'));
      await notifier.connect().catch(() => undefined);
      for (const t of ['member.tier-changes', 'activity.events'] as const) {
        expect(
          await refused(notifier.send({ topic: s.topic(t), acks: -1, messages: [{ key: 'x', value: '{}' }] })),
          t,
        ).toMatch(/authoriz/i);
      }
      await notifier.disconnect();
      // No client certificate, or a wrong password: not even connected.
      const noCert = kafkaOf('workers', { KAFKA_TLS_CERT_FILE: '', KAFKA_TLS_KEY_FILE: '' }).admin();
      expect(await refused(noCert.connect())).not.toBe('allowed');
      const wrong = kafkaOf('workers', { KAFKA_SASL_PASSWORD: 'not-the-password' }).admin();
      const wrongPassword = await refused(wrong.connect());
      expect(wrongPassword).toMatch(/SASL|authenticat/i);
      expect(wrongPassword).not.toContain('not-the-password');
    },
  );
});
