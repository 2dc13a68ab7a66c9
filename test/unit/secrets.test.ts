import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../shared/config/env.js';
import { loggerOptions } from '../../shared/log.js';
import { AvroCodec, describeRegistryError } from '../../shared/registry/codec.js';
import { redactCredentials } from '../../shared/util/redact.js';

const secret = 's3cr3t-Pa55';

function configError(env: Record<string, string>): string {
  try {
    loadEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('secrets: never in config errors, logs or CLI output', () => {
  it.each([
    ['REDIS_URL', `http://admin:${secret}@cache.internal:6379`],
    ['REDIS_URL', `redis://admin:${secret}@127.0.0.1:99999`],
    ['REDIS_URL', `redis://admin:${secret}@127.0.0.1:6379/99`],
    ['REDIS_URL', `redis://:${secret}@127.0.0.1:0`],
    ['SCHEMA_REGISTRY_URL', `ftp://u:${secret}@registry:8081`],
    ['SCHEMA_REGISTRY_URL', `http://u:${secret}@registry:70000/apis/ccompat/v7`],
  ])('%s=%s is refused naming the variable and the rule, not the value', (variable, value) => {
    const message = configError({ [variable]: value });
    expect(message).toContain(variable);
    expect(message).not.toContain(secret);
    expect(message).not.toContain(value);
  });

  it('refuses ports out of range and db indexes a default Redis does not have; accepts the usual forms', () => {
    expect(configError({ KAFKA_BROKERS: '127.0.0.1:99999' })).toContain('KAFKA_BROKERS');
    expect(configError({ KAFKA_BROKERS: '127.0.0.1:0' })).toContain('1-65535');
    expect(configError({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:70001' })).toContain('REDIS_CLUSTER_NODES');
    expect(configError({ REDIS_URL: 'redis://127.0.0.1:6379/16' })).toContain('db 0-15');
    expect(configError({ REDIS_URL: 'redis://127.0.0.1:6379/x' })).toContain('REDIS_URL');
    const ok = loadEnv({
      REDIS_URL: `rediss://app:${secret}@cache:6380/15`,
      KAFKA_BROKERS: 'a:9092,b:65535',
      SCHEMA_REGISTRY_URL: `https://u:${secret}@reg/apis/ccompat/v7`,
    });
    expect(ok.KAFKA_BROKERS).toEqual(['a:9092', 'b:65535']);
    expect(loadEnv({ REDIS_URL: 'redis://127.0.0.1:6379/' }).REDIS_URL).toBe('redis://127.0.0.1:6379/');
  });

  it('redacts URL credentials wherever they appear in a text', () => {
    expect(redactCredentials(`connect to redis://admin:${secret}@h:6379/0 failed; see http://u:p@x/y`)).toBe(
      'connect to redis://***@h:6379/0 failed; see http://***@x/y',
    );
    expect(redactCredentials('http://host:8081/apis')).toBe('http://host:8081/apis');
  });

  it('an unreachable registry with credentials in its URL: the error names the subject, not the password', async () => {
    const codec = new AvroCodec(`http://user:${secret}@127.0.0.1:1/apis/ccompat/v7`, 'sec');
    const err = await codec.registerAll(['activity.events']).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).not.toBeNull();
    expect(err!.message).toContain('activity.events');
    expect(err!.message).not.toContain(secret);
    expect(describeRegistryError({ status: 404, message: 'Subject not found' })).toBe('status 404: Subject not found');
    expect(describeRegistryError({})).not.toContain('[object Object]');
  }, 30_000);

  it('logs redact URL credentials in messages and errors, and censor secret fields', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk, _enc, done) => {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino(loggerOptions('t', 'info'), sink);
    log.info(`connecting to redis://admin:${secret}@h:6379`);
    log.error({ err: new Error(`ECONNREFUSED redis://admin:${secret}@h:6379`) }, 'down');
    log.warn({ err: { message: `at http://u:${secret}@reg/x` } }, 'plain error object');
    log.info({ sasl: { mechanism: 'scram-sha-512', username: 'app', password: secret } }, 'kafka auth');
    const all = lines.join('');
    expect(lines).toHaveLength(4);
    expect(all).not.toContain(secret);
    expect(all).toContain('redis://***@h:6379');
    expect(all).toContain('scram-sha-512');
  });

  it('logged errors keep type, message, stack, code and cause, never the fields that carry data', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk, _enc, done) => {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino(loggerOptions('t', 'info'), sink);
    // Like an ioredis ReplyError: the command and its arguments ride on the error.
    const reply = Object.assign(new Error('NOAUTH Authentication required.'), {
      command: { name: 'auth', args: ['default', secret] },
      code: 'NOAUTH',
    });
    log.error({ err: new Error('script failed', { cause: reply }) }, 'write failed');
    const line = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(lines.join('')).not.toContain(secret);
    expect(line.err.type).toBe('Error');
    expect(line.err.message).toBe('script failed');
    expect(line.err.stack).toMatch(/script failed\n\s+at /);
    expect(line.err.cause).toMatchObject({ type: 'Error', message: 'NOAUTH Authentication required.', code: 'NOAUTH' });
    expect(line.err.cause).not.toHaveProperty('command');
  });

  it('a failing start prints nothing of the secret, whatever the command', () => {
    for (const env of [
      { REDIS_URL: `http://admin:${secret}@cache.internal:6379` },
      { REDIS_URL: `redis://admin:${secret}@127.0.0.1:99999` },
      { SCHEMA_REGISTRY_URL: `http://u:${secret}@registry:99999/apis/ccompat/v7` },
    ]) {
      const run = spawnSync(process.execPath, ['bin/memberflow.js', 'run', 'behavior-events'], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, JSON.stringify(Object.keys(env))).toBe(2);
      expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
      expect(run.stderr).toContain(Object.keys(env)[0]);
    }
  }, 120_000);
});
