import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryAccessOf } from '../../shared/clients.js';
import { loadEnv } from '../../shared/config/env.js';
import { registryRequest } from '../../shared/registry/access.js';
import { AvroCodec } from '../../shared/registry/codec.js';

/**
 * Credentials reach every registry call memberflow makes: the registry client's (register) and
 * its own (compatibility, subject listing). A stand-in HTTP server records the Authorization
 * header of each request; the real, secured registry is test/integration/secured-registry.test.ts
 * (basic auth and TLS; Apicurio's embedded users take no bearer token, hence this test for it).
 */
describe('registry credentials', () => {
  let server: Server;
  let url: string;
  const seen: { method: string; path: string; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method!, path: req.url!, authorization: req.headers.authorization });
      res.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
      if (req.method === 'GET' && req.url!.includes('/config/'))
        return res.end(JSON.stringify({ compatibilityLevel: 'FULL_TRANSITIVE' }));
      if (req.method === 'PUT' && req.url!.includes('/config/'))
        return res.end(JSON.stringify({ compatibility: 'FULL_TRANSITIVE' }));
      if (req.method === 'POST' && req.url!.endsWith('/versions')) return res.end(JSON.stringify({ id: 7 }));
      if (req.method === 'GET' && req.url!.endsWith('/subjects')) return res.end(JSON.stringify(['a-value']));
      res.statusCode = 404;
      res.end(JSON.stringify({ error_code: 40401, message: 'not found' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/apis/ccompat/v7`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each([
    ['a bearer token', { SCHEMA_REGISTRY_TOKEN: 'tok-123' }, 'Bearer tok-123'],
    [
      'basic auth',
      { SCHEMA_REGISTRY_USERNAME: 'mf', SCHEMA_REGISTRY_PASSWORD: 'pw' },
      `Basic ${Buffer.from('mf:pw').toString('base64')}`,
    ],
  ])("%s goes with the client's calls and memberflow's own", async (_, vars, header) => {
    seen.length = 0;
    const access = registryAccessOf(loadEnv({ SCHEMA_REGISTRY_URL: url, ...vars }));
    const ids = await new AvroCodec(access, 'ns').registerAll(['activity.events']);
    expect(ids.get('activity.events')).toBe(7);
    expect((await registryRequest(access, 'GET', '/subjects')).body).toEqual(['a-value']);
    expect(seen.map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`)).toEqual(
      expect.arrayContaining([
        `POST /apis/ccompat/v7/subjects/ns.activity.events-value/versions`,
        'GET /apis/ccompat/v7/subjects',
      ]),
    );
    for (const r of seen) expect(r.authorization, `${r.method} ${r.path}`).toBe(header);
  });

  it('sends no Authorization header without credentials', async () => {
    seen.length = 0;
    await registryRequest(registryAccessOf(loadEnv({ SCHEMA_REGISTRY_URL: url })), 'GET', '/subjects');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.authorization).toBeUndefined();
  });

  it('refuses a token with basic auth, and a user without a password, naming the variables', () => {
    expect(() =>
      loadEnv({ SCHEMA_REGISTRY_TOKEN: 'tok-123', SCHEMA_REGISTRY_USERNAME: 'mf', SCHEMA_REGISTRY_PASSWORD: 'pw' }),
    ).toThrow(/SCHEMA_REGISTRY_TOKEN: expected either a bearer token or basic auth/);
    const err = (() => {
      try {
        loadEnv({ SCHEMA_REGISTRY_USERNAME: 'mf' });
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(err).toMatch(/SCHEMA_REGISTRY_PASSWORD \(unset\): expected together with/);
    expect(() => registryAccessOf(loadEnv({ SCHEMA_REGISTRY_CA_FILE: '/nonexistent/ca.pem' }))).toThrow(
      /SCHEMA_REGISTRY_CA_FILE: expected a readable PEM file \(ENOENT\)/,
    );
  });
});
