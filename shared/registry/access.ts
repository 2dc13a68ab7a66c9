import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { SchemaRegistryAPIClientArgs } from '@kafkajs/confluent-schema-registry/dist/api/index.js';

/**
 * How memberflow reaches the schema registry: its URL and, for a locked-down registry, basic
 * auth or a bearer token and the CA of its TLS certificate. One place builds both the registry
 * client's settings and the few raw requests memberflow makes itself, so every call carries them.
 */
export interface RegistryAccess {
  url: string;
  basic?: { username: string; password: string };
  token?: string;
  /** PEM of the CA that signed the registry's certificate (a private CA). */
  ca?: Buffer;
}

/** A bare URL, or the access as given. */
export function registryAccess(access: string | RegistryAccess): RegistryAccess {
  return typeof access === 'string' ? { url: access } : access;
}

/** The Authorization header of an access, if it has credentials. */
function authorization(a: RegistryAccess): string | undefined {
  if (a.token !== undefined) return `Bearer ${a.token}`;
  if (a.basic !== undefined)
    return `Basic ${Buffer.from(`${a.basic.username}:${a.basic.password}`).toString('base64')}`;
  return undefined;
}

const agents = new WeakMap<RegistryAccess, HttpAgent>();

/** One keep-alive agent per access: TLS with its CA for https, plain otherwise. */
function agentOf(a: RegistryAccess): HttpAgent {
  let agent = agents.get(a);
  if (!agent) {
    agent =
      new URL(a.url).protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, ...(a.ca ? { ca: a.ca } : {}) })
        : new HttpAgent({ keepAlive: true });
    agents.set(a, agent);
  }
  return agent;
}

/** Settings for @kafkajs/confluent-schema-registry's client (its retry added by the caller). */
export function registryClientArgs(a: RegistryAccess): SchemaRegistryAPIClientArgs {
  const header = authorization(a);
  return {
    host: a.url,
    agent: agentOf(a),
    // A header of our own rather than the client's `auth`: one path for basic and bearer alike.
    ...(header
      ? {
          middlewares: [
            () => ({
              prepareRequest: (next) => next().then((req) => req.enhance({ headers: { authorization: header } })),
            }),
          ],
        }
      : {}),
  };
}

/** A request of memberflow's own to the registry (a path under its URL): status and parsed JSON body (null if none). */
export function registryRequest(
  a: RegistryAccess,
  method: 'GET' | 'DELETE',
  path: string,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(a.url.replace(/\/$/, '') + path);
  const header = authorization(a);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        agent: agentOf(a),
        headers: { accept: 'application/json', ...(header ? { authorization: header } : {}) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text === '' ? null : JSON.parse(text);
          } catch {
            body = null;
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`the registry did not answer ${method} ${path} within 30 s`)));
    req.on('error', reject);
    req.end();
  });
}
