import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthWatch } from './watch.js';
import type { Metrics } from './metrics.js';

/**
 * The process's operations port: `/metrics` (Prometheus text), `/healthz` (the process answers),
 * `/readyz` (200 when ready, 503 with the reasons otherwise, as JSON).
 */
export async function serveOperations(
  port: number,
  host: string,
  metrics: Metrics,
  health: HealthWatch,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"alive":true}\n');
    } else if (path === '/readyz') {
      const r = health.readiness();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(r)}\n`);
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
