// Preloaded (node --import) into every process the bench measures. It counts Redis round
// trips (ioredis sends a pipeline as one socket write and a lone command as one write, so
// writes on the Redis socket are requests the process waited for) and, at exit, writes the
// count with the process's CPU time and peak RSS to MEMBERFLOW_BENCH_PROBE_FILE.
import net from 'node:net';
import { writeFileSync } from 'node:fs';

const file = process.env.MEMBERFLOW_BENCH_PROBE_FILE;
// The Redis ports: the one node's, or the cluster's seed nodes (name them all in REDIS_CLUSTER_NODES).
const redisPorts = new Set(
  process.env.REDIS_CLUSTER_NODES
    ? process.env.REDIS_CLUSTER_NODES.split(',').map((n) => Number(n.trim().split(':')[1]))
    : [Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379)],
);
let redisRoundTrips = 0;
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function patchedWrite(...args) {
  if (redisPorts.has(this.remotePort)) redisRoundTrips++;
  return write.apply(this, args);
};
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({
        pid: process.pid,
        redisRoundTrips,
        cpuUserMs: usage.userCPUTime / 1000,
        cpuSystemMs: usage.systemCPUTime / 1000,
        maxRssBytes: usage.maxRSS * 1024,
        uptimeMs: Math.round(process.uptime() * 1000),
      }),
    );
  });
}
