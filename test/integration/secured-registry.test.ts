import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberProfile } from '../../services/behavior-events/profile.js';
import { workerDefinition } from '../../services/index.js';
import { registryAccessOf } from '../../shared/clients.js';
import { loadEnv } from '../../shared/config/env.js';
import { MemberStore } from '../../shared/redis/member-store.js';
import { registryRequest } from '../../shared/registry/access.js';
import { AvroCodec } from '../../shared/registry/codec.js';
import { TestStack, waitFor } from '../support/harness.js';
import { makeCertificates } from '../support/certificates.js';
import { freePort } from '../support/ports.js';
import { countEventIds } from '../support/kcat.js';

/**
 * The schema registry locked down: an Apicurio of its own (the stack's jar) serving only HTTPS
 * from certificate files made with openssl at start, and requiring basic auth (Quarkus' embedded
 * users, every path authenticated). memberflow reaches it with SCHEMA_REGISTRY_USERNAME,
 * SCHEMA_REGISTRY_PASSWORD and SCHEMA_REGISTRY_CA_FILE; without them it is refused.
 */
const user = 'memberflow';
const password = 'mf-test-registry-password-not-a-secret';

describe('the schema registry over TLS with basic auth', () => {
  let dir: string;
  let registry: ChildProcess;
  let httpsPort: number;
  let httpPort: number;
  let url: string;
  let s: TestStack;
  const secured = () => ({
    SCHEMA_REGISTRY_URL: url,
    SCHEMA_REGISTRY_USERNAME: user,
    SCHEMA_REGISTRY_PASSWORD: password,
    SCHEMA_REGISTRY_CA_FILE: join(dir, 'ca.crt'),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-registry-tls-'));
    makeCertificates(dir);
    const jar = spawnSync('bash', ['stack/stack.sh', 'registry-jar'], { encoding: 'utf8' });
    if (jar.status !== 0 || jar.stdout.trim() === '')
      throw new Error(`no registry jar from stack/stack.sh registry-jar: ${jar.stderr}`);
    [httpsPort, httpPort] = [await freePort(), await freePort()];
    const managementPort = await freePort();
    url = `https://127.0.0.1:${httpsPort}/apis/ccompat/v7`;
    // In-memory storage (every start is empty); HTTP refused; every path needs an authenticated user.
    registry = spawn(
      'java',
      [
        '-Xmx384m',
        '-XX:+UseSerialGC',
        '-Djava.awt.headless=true',
        '-Dquarkus.http.host=127.0.0.1',
        `-Dquarkus.http.port=${httpPort}`,
        `-Dquarkus.http.ssl-port=${httpsPort}`,
        `-Dquarkus.http.ssl.certificate.files=${join(dir, 'server.crt')}`,
        `-Dquarkus.http.ssl.certificate.key-files=${join(dir, 'server.key')}`,
        '-Dquarkus.http.insecure-requests=disabled',
        '-Dquarkus.management.host=127.0.0.1',
        `-Dquarkus.management.port=${managementPort}`,
        '-Dquarkus.http.auth.basic=true',
        '-Dquarkus.security.users.embedded.enabled=true',
        '-Dquarkus.security.users.embedded.plain-text=true',
        `-Dquarkus.security.users.embedded.users.${user}=${password}`,
        `-Dquarkus.security.users.embedded.roles.${user}=sr-admin`,
        '-Dquarkus.http.auth.permission.all.paths=/*',
        '-Dquarkus.http.auth.permission.all.policy=authenticated',
        '-jar',
        jar.stdout.trim(),
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const probe = registryAccessOf(loadEnv({ SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_CA_FILE: join(dir, 'ca.crt') }));
    await waitFor(
      async () => (await registryRequest(probe, 'GET', '/subjects').catch(() => ({ status: 0 }))).status === 401,
      180_000,
      'the secured registry to answer (401 without credentials)',
    );
    s = await TestStack.create('registry-tls', { partitions: 2 });
  }, 240_000);
  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    await s?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
    registry?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses memberflow without credentials, without the CA, and over plain HTTP; the error names no password', async () => {
    const noCredentials = new AvroCodec(
      registryAccessOf(loadEnv({ SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_CA_FILE: join(dir, 'ca.crt') })),
      s.ns,
    );
    await expect(noCredentials.registerAll(['activity.events'])).rejects.toThrow(/401/);
    const wrong = new AvroCodec(
      registryAccessOf(loadEnv({ ...secured(), SCHEMA_REGISTRY_PASSWORD: 'not-the-password' })),
      s.ns,
    );
    const refused = await wrong.registerAll(['activity.events']).then(
      () => null,
      (err: unknown) => (err as Error).message,
    );
    expect(refused).toMatch(/401/);
    expect(refused).not.toContain('not-the-password');
    // The system's CAs do not know the registry's.
    await expect(registryRequest({ url, basic: { username: user, password } }, 'GET', '/subjects')).rejects.toThrow(
      /certificate/i,
    );
    await expect(
      registryRequest({ url: `http://127.0.0.1:${httpPort}/apis/ccompat/v7` }, 'GET', '/subjects'),
    ).rejects.toThrow();
  });

  it(
    'runs a worker whose outputs are encoded with schemas registered in the secured registry',
    { timeout: 120_000 },
    async () => {
      const access = registryAccessOf(loadEnv(secured()));
      const codec = new AvroCodec(access, s.ns);
      // As every worker does at start (the CLI): memberflow's schemas, registered through TLS with basic auth.
      await codec.registerAll();
      const events = ['ann', 'ben'].flatMap((m) =>
        [1, 2, 3].map((i) => ({
          eventId: `reg-${m}-${i}`,
          userId: m,
          type: 'purchase',
          occurredAt: Date.UTC(2026, 0, 5, i),
          amountFen: 300,
          itemId: 'course-2',
          category: 'cat-2',
        })),
      );
      await s.produceJson(events);
      const w = await s.startWorker('behavior-events', { codec });
      try {
        await s.waitForLag0('behavior-events', 'activity.events', 60_000);
      } finally {
        await w.stop();
      }
      const subjects = await registryRequest(access, 'GET', '/subjects');
      expect(subjects.status).toBe(200);
      expect(subjects.body).toContain(`${s.topic('behavior.events')}-value`);
      const store = new MemberStore<MemberProfile>(s.clients.redis, s.ns, workerDefinition('behavior-events'));
      expect((await store.state('ann'))?.purchaseCount).toBe(3);
      const read = countEventIds(s.env.KAFKA_BROKERS.join(','), s.topic('behavior.events'), 'read_committed');
      expect(read).toMatchObject({ records: events.length, duplicates: 0 });
    },
  );
});
