import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { workerDefinition } from '../../services/index.js';
import { redisTarget } from '../../shared/clients.js';
import { loadEnv } from '../../shared/config/env.js';
import { connectRedis, type RedisClient } from '../../shared/redis/client.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { TestStack, waitFor } from '../support/harness.js';
import { makeCertificates } from '../support/certificates.js';
import { freePort } from '../support/ports.js';

/**
 * Redis locked down: a native redis-server that speaks only TLS (certificates made with openssl at
 * start, client certificates required) and knows only ACL users from an aclfile, the default user
 * off. memberflow's user may touch memberflow's keys (`mf:*`) and nothing dangerous. A worker runs
 * its pipeline through it; every way in without the right certificate or credentials is refused.
 */
const password = 'mf-test-redis-password-not-a-secret';
const adminPassword = 'mf-test-admin-password-not-a-secret';

describe('Redis over TLS with an ACL user', () => {
  let dir: string;
  let server: ChildProcess;
  let port: number;
  let s: TestStack;
  const opened: RedisClient[] = [];
  /** What each client reported on its error event (a refused AUTH arrives there; connect() only says the connection closed). */
  const emitted = new Map<RedisClient, string[]>();
  const files = () => ({
    REDIS_TLS_CA_FILE: join(dir, 'ca.crt'),
    REDIS_TLS_CERT_FILE: join(dir, 'client.crt'),
    REDIS_TLS_KEY_FILE: join(dir, 'client.key'),
  });
  /** A client from memberflow's own configuration path (loadEnv → redisTarget → connectRedis). */
  const client = (env: Record<string, string>): RedisClient => {
    const c = connectRedis(redisTarget(loadEnv(env)), {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    c.on('error', (err: Error) => emitted.set(c, [...(emitted.get(c) ?? []), err.message]));
    opened.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-redis-tls-'));
    makeCertificates(dir);
    writeFileSync(
      join(dir, 'users.acl'),
      [
        'user default off',
        // memberflow's keys only; no FLUSHALL, CONFIG, KEYS, DEBUG... (@dangerous), but INFO for the client's ready check.
        `user memberflow on >${password} ~mf:* &* +@all -@dangerous +info`,
        `user admin on >${adminPassword} ~* &* +@all`,
        '',
      ].join('\n'),
    );
    port = await freePort();
    server = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        join(dir, 'server.crt'),
        '--tls-key-file',
        join(dir, 'server.key'),
        '--tls-ca-cert-file',
        join(dir, 'ca.crt'),
        '--tls-auth-clients',
        'yes',
        '--aclfile',
        join(dir, 'users.acl'),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const admin = client({ REDIS_URL: `rediss://admin:${adminPassword}@127.0.0.1:${port}`, ...files() });
    await waitFor(
      async () =>
        (await admin.connect().then(
          () => admin.ping(),
          () => null,
        )) === 'PONG',
      20_000,
      'the TLS redis-server to answer',
    );
    s = await TestStack.create('redis-tls', { partitions: 2 });
  });
  afterAll(async () => {
    for (const c of opened) c.disconnect();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    server?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a worker with its state in the secured Redis', { timeout: 120_000 }, async () => {
    const redis = client({ REDIS_URL: `rediss://memberflow:${password}@127.0.0.1:${port}`, ...files() });
    await redis.connect();
    const events = ['ann', 'ben', 'cat'].flatMap((m) =>
      [1, 2].map((i) => ({
        eventId: `tls-${m}-${i}`,
        userId: m,
        type: 'purchase',
        occurredAt: Date.UTC(2026, 0, 5, i),
        amountFen: 500,
        itemId: 'course-1',
        category: 'cat-1',
      })),
    );
    await s.produceJson(events);
    const w = await s.startWorker('behavior-events', { redis });
    try {
      await s.waitForLag0('behavior-events', 'activity.events', 60_000);
    } finally {
      await w.stop();
    }
    const store = new MemberStore<MemberProfile>(redis, s.ns, workerDefinition('behavior-events'));
    expect((await store.state('ann'))?.purchaseCount).toBe(2);
    expect(await s.readAll('behavior.events', { minRecords: events.length })).toHaveLength(events.length);
  });

  it(
    'refuses every other way in: no TLS, no client certificate, a wrong password, the default user, keys outside mf:*',
    { timeout: 60_000 },
    async () => {
      const refusal = async (c: RedisClient): Promise<string> => {
        const answer = await c.connect().then(
          () => c.ping(),
          (err: unknown) => (err as Error).message,
        );
        return [answer, ...(emitted.get(c) ?? [])].join(' | ');
      };
      // Plain TCP to the TLS port: the handshake never happens.
      expect(await refusal(client({ REDIS_URL: `redis://memberflow:${password}@127.0.0.1:${port}` }))).not.toMatch(
        /^PONG/,
      );
      // TLS with the CA but no client certificate (tls-auth-clients yes).
      expect(
        await refusal(
          client({
            REDIS_URL: `rediss://memberflow:${password}@127.0.0.1:${port}`,
            REDIS_TLS_CA_FILE: join(dir, 'ca.crt'),
          }),
        ),
      ).not.toMatch(/^PONG/);
      // A wrong password, and no user at all (the default user is off). The error names no password.
      const wrong = await refusal(
        client({ REDIS_URL: `rediss://memberflow:not-the-password@127.0.0.1:${port}`, ...files() }),
      );
      expect(wrong).toMatch(/WRONGPASS/);
      expect(wrong).not.toContain('not-the-password');
      expect(await refusal(client({ REDIS_URL: `rediss://127.0.0.1:${port}`, ...files() }))).toMatch(
        /NOAUTH|WRONGPASS|NOPERM/,
      );
      // memberflow's user: its own keys yes; another key, and a dangerous command, no.
      const mf = client({ REDIS_URL: `rediss://memberflow:${password}@127.0.0.1:${port}`, ...files() });
      await mf.connect();
      expect(await mf.set(`mf:${s.ns}:probe`, '1')).toBe('OK');
      await expect(mf.set('other:probe', '1')).rejects.toThrow(/NOPERM/);
      await expect(mf.flushall()).rejects.toThrow(/NOPERM/);
    },
  );

  it('names the variable, not the path or its contents, when a certificate file cannot be read', () => {
    const missing = join(dir, 'no-such.key');
    expect(() =>
      redisTarget(
        loadEnv({
          REDIS_URL: 'rediss://127.0.0.1:1',
          REDIS_TLS_CA_FILE: join(dir, 'ca.crt'),
          REDIS_TLS_CERT_FILE: join(dir, 'client.crt'),
          REDIS_TLS_KEY_FILE: missing,
        }),
      ),
    ).toThrow(/REDIS_TLS_KEY_FILE: expected a readable PEM file \(ENOENT\)/);
    expect(() => loadEnv({ REDIS_TLS_CERT_FILE: join(dir, 'client.crt') })).toThrow(
      /REDIS_TLS_KEY_FILE \(unset\): expected together with/,
    );
  });
});
