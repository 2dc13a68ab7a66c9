import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../stack/stack.sh', import.meta.url));

/** Delegates to stack/stack.sh, which knows how to fetch and run the native services. */
export function stackCommand(action: string, opts: { redisCluster?: boolean } = {}): number {
  const allowed = ['up', 'down', 'status', 'env', 'restart-kafka'];
  if (!allowed.includes(action)) {
    process.stderr.write(`unknown stack action "${action}"; expected one of ${allowed.join(', ')}\n`);
    return 2;
  }
  if (opts.redisCluster && action !== 'up' && action !== 'env') {
    process.stderr.write('--redis-cluster goes with up or env\n');
    return 2;
  }
  const result = spawnSync('bash', [script, action, ...(opts.redisCluster ? ['--redis-cluster'] : [])], { stdio: 'inherit' });
  return result.status ?? 1;
}
