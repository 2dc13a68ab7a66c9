import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../stack/stack.sh', import.meta.url));

/** Delegates to stack/stack.sh, which knows how to fetch and run the native services. */
export function stackCommand(
  action: string,
  opts: { redisCluster?: boolean; brokers?: number; secure?: boolean } = {},
): number {
  const allowed = ['up', 'down', 'status', 'env', 'restart-kafka'];
  if (!allowed.includes(action)) {
    process.stderr.write(`unknown stack action "${action}"; expected one of ${allowed.join(', ')}\n`);
    return 2;
  }
  if (opts.redisCluster && action !== 'up' && action !== 'env') {
    process.stderr.write('--redis-cluster goes with up or env\n');
    return 2;
  }
  if (opts.brokers !== undefined && opts.brokers !== 1 && opts.brokers !== 3) {
    process.stderr.write('--brokers: the local stack runs 1 or 3 brokers\n');
    return 2;
  }
  if (opts.secure && action !== 'up' && action !== 'env') {
    process.stderr.write('--secure goes with up or env\n');
    return 2;
  }
  const cluster = opts.brokers === 3;
  if (cluster && !['up', 'env', 'restart-kafka'].includes(action)) {
    process.stderr.write('--brokers goes with up, env or restart-kafka\n');
    return 2;
  }
  const args = [
    action,
    ...(opts.redisCluster ? ['--redis-cluster'] : []),
    ...(cluster ? ['--brokers', '3'] : []),
    ...(opts.secure ? ['--secure'] : []),
  ];
  const result = spawnSync('bash', [script, ...args], { stdio: 'inherit' });
  return result.status ?? 1;
}
