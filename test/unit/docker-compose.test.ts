import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadEnv } from '../../shared/config/env.js';

// docker compose cannot run here (no Docker engine): check the file parses and matches the native stack.
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, { image?: string; ports?: string[]; environment?: Record<string, unknown> }>;
};
const stackScript = readFileSync(new URL('../../stack/stack.sh', import.meta.url), 'utf8');

describe('docker-compose.yml', () => {
  it('describes the same services on the same ports as stack/stack.sh', () => {
    const s = compose.services;
    expect(s.kafka?.ports).toContain('9092:9092');
    expect(s.registry?.ports).toContain('8081:8080');
    expect(s.redis?.ports).toContain('6379:6379');
    expect(stackScript).toMatch(/MEMBERFLOW_KAFKA_PORT:-9092/);
    expect(stackScript).toMatch(/MEMBERFLOW_REGISTRY_PORT:-8081/);
    expect(stackScript).toMatch(/MEMBERFLOW_REDIS_PORT:-6379/);
    expect(stackScript).toContain('/apis/ccompat/v7');
  });

  it('gives the workers the environment names the config reads, with valid values', () => {
    // YAML scalars: a value may be read as a number or a boolean.
    const env = compose.services['behavior-events']?.environment as Record<string, string | number | boolean>;
    expect(Object.keys(env).sort()).toEqual([
      'KAFKA_BROKERS',
      'LOG_LEVEL',
      'MEMBERFLOW_NAMESPACE',
      'REDIS_URL',
      'SCHEMA_REGISTRY_URL',
    ]);
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/, '$1')]),
    );
    expect(() => loadEnv(resolved)).not.toThrow();
  });

  it('pins the Kafka and registry versions the native stack runs', () => {
    const pom = readFileSync(new URL('../../stack/pom.xml', import.meta.url), 'utf8');
    const kafkaVersion = /<kafka.version>([^<]+)</.exec(pom)?.[1];
    const apicurioVersion = /<apicurio.version>([^<]+)</.exec(pom)?.[1];
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${kafkaVersion}`);
    expect(compose.services.registry?.image).toBe(`apicurio/apicurio-registry:${apicurioVersion}`);
  });
});
