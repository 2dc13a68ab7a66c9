import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/**
 * Finds a real stack for the integration suites, in this order:
 * 1. endpoints from the environment (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL);
 * 2. testcontainers, where a Docker engine answers;
 * 3. the native stack (stack/stack.sh up: Kafka and Apicurio from Maven Central, local Redis).
 * When none can be had the suites fail with the reason; they never skip.
 *
 * The `cluster` project runs its files against a Redis Cluster and a three-broker Kafka instead of
 * the single nodes: REDIS_CLUSTER_NODES and KAFKA_CLUSTER_BROKERS from the environment, or the native
 * stack's (`stack.sh up --redis-cluster --brokers 3`).
 */
export interface StackEndpoints {
  KAFKA_BROKERS: string;
  SCHEMA_REGISTRY_URL: string;
  REDIS_URL: string;
  /** Set for the `cluster` project: the seed nodes of the Redis Cluster its files use. */
  REDIS_CLUSTER_NODES?: string;
  source: 'environment' | 'testcontainers' | 'native';
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

const stackScript = fileURLToPath(new URL('../../stack/stack.sh', import.meta.url));
let stopContainers: (() => Promise<void>) | undefined;

export default async function setup(project: TestProject) {
  const found = await findStack();
  const stack = project.name === 'cluster' ? { ...found, ...clusters() } : found;
  process.stderr.write(
    `[${project.name}] stack from ${stack.source}: ${stack.KAFKA_BROKERS} ${stack.SCHEMA_REGISTRY_URL} ${stack.REDIS_CLUSTER_NODES ?? stack.REDIS_URL}\n`,
  );
  // The single-node endpoints, for whatever reads them from the environment; the clusters reach tests by inject only.
  Object.assign(process.env, {
    KAFKA_BROKERS: found.KAFKA_BROKERS,
    SCHEMA_REGISTRY_URL: found.SCHEMA_REGISTRY_URL,
    REDIS_URL: found.REDIS_URL,
  });
  project.provide('stack', stack);
  return async () => {
    await stopContainers?.();
  };
}

async function findStack(): Promise<StackEndpoints> {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL } = process.env;
  if (KAFKA_BROKERS && SCHEMA_REGISTRY_URL && REDIS_URL)
    return { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL, source: 'environment' };
  if (dockerAnswers()) return startContainers();
  const up = spawnSync('bash', [stackScript, 'up'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (up.status !== 0) {
    throw new Error(
      `no stack for the integration tests: stack/stack.sh up exited ${up.status ?? up.signal}; see its ` +
        `messages above. Set KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL to use your own.`,
    );
  }
  const env = Object.fromEntries(
    execFileSync('bash', [stackScript, 'env'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;
  return {
    KAFKA_BROKERS: env.KAFKA_BROKERS!,
    SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL!,
    REDIS_URL: env.REDIS_URL!,
    source: 'native',
  };
}

/**
 * The Redis Cluster's seed nodes and the three brokers: REDIS_CLUSTER_NODES and KAFKA_CLUSTER_BROKERS,
 * or the native stack's, started here when they are not up.
 */
function clusters(): { REDIS_CLUSTER_NODES: string; KAFKA_BROKERS: string } {
  const given = {
    REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES,
    KAFKA_BROKERS: process.env.KAFKA_CLUSTER_BROKERS,
  };
  if (given.REDIS_CLUSTER_NODES && given.KAFKA_BROKERS)
    return { REDIS_CLUSTER_NODES: given.REDIS_CLUSTER_NODES, KAFKA_BROKERS: given.KAFKA_BROKERS };
  const args = ['--redis-cluster', '--brokers', '3'];
  const up = spawnSync('bash', [stackScript, 'up', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (up.status !== 0)
    throw new Error(
      `no clusters for the cluster suites: stack/stack.sh up ${args.join(' ')} exited ` +
        `${up.status ?? up.signal}; see its messages above. Set REDIS_CLUSTER_NODES and KAFKA_CLUSTER_BROKERS ` +
        `to use your own.`,
    );
  const env = execFileSync('bash', [stackScript, 'env', ...args], { encoding: 'utf8' }).split('\n');
  const value = (name: string): string => {
    const line = env.find((l) => l.startsWith(`${name}=`));
    if (!line) throw new Error(`stack/stack.sh env ${args.join(' ')} printed no ${name}`);
    return line.slice(name.length + 1);
  };
  return {
    REDIS_CLUSTER_NODES: given.REDIS_CLUSTER_NODES || value('REDIS_CLUSTER_NODES'),
    KAFKA_BROKERS: given.KAFKA_BROKERS || value('KAFKA_BROKERS'),
  };
}

function dockerAnswers(): boolean {
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && r.stdout.trim() !== '';
}

/** The same services as docker-compose.yml, through testcontainers. */
async function startContainers(): Promise<StackEndpoints> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const network = await new Network().start();
  const kafka = await new GenericContainer('apache/kafka:4.1.1')
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withExposedPorts({ container: 9092, host: 9092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:9092',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const registry = await new GenericContainer('apicurio/apicurio-registry:3.0.9')
    .withExposedPorts({ container: 8080, host: 8081 })
    .withEnvironment({ APICURIO_RULES_GLOBAL_COMPATIBILITY: 'BACKWARD' })
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
    .start();
  const redis = await new GenericContainer('redis:7.2').withExposedPorts({ container: 6379, host: 6379 }).start();
  stopContainers = async () => {
    await Promise.all([kafka.stop(), registry.stop(), redis.stop()]);
    await network.stop();
  };
  return {
    KAFKA_BROKERS: '127.0.0.1:9092',
    SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7',
    REDIS_URL: 'redis://127.0.0.1:6379',
    source: 'testcontainers',
  };
}
