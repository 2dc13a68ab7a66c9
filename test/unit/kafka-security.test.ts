import { describe, expect, it } from 'vitest';
import { kafkaSecurityOf } from '../../shared/clients.js';
import { loadEnv } from '../../shared/config/env.js';
import { memberflowAcls } from '../../shared/kafka/acls.js';
import { kafkajsSecurity } from '../../shared/kafka/client.js';
import { confluentCommonConfig } from '../../shared/kafka/confluent/config.js';
import type { ConfluentLogger } from '../../shared/kafka/confluent/library.js';

const logger = {
  info() {},
  error() {},
  warn() {},
  debug() {},
  namespace: () => logger,
  setLogLevel() {},
} as ConfluentLogger;

describe('Kafka security settings', () => {
  it('maps SASL and TLS to kafkajs and to the confluent client alike', () => {
    const security = {
      tls: { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') },
      sasl: { mechanism: 'scram-sha-512' as const, username: 'workers', password: 'pw' },
    };
    expect(kafkajsSecurity(security)).toEqual({
      ssl: { ca: [Buffer.from('CA')], cert: Buffer.from('CERT'), key: Buffer.from('KEY') },
      sasl: { mechanism: 'scram-sha-512', username: 'workers', password: 'pw' },
    });
    const c = confluentCommonConfig(['b:1'], 'id', logger, false, security);
    expect(c.kafkaJS).toMatchObject({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'workers', password: 'pw' },
    });
    expect(c).toMatchObject({ 'ssl.ca.pem': 'CA', 'ssl.certificate.pem': 'CERT', 'ssl.key.pem': 'KEY' });
    // TLS with the system's CAs; nothing at all by default.
    expect(kafkajsSecurity({ tls: {} })).toEqual({ ssl: true });
    expect(kafkajsSecurity()).toEqual({});
    expect(confluentCommonConfig(['b:1'], 'id', logger)).not.toHaveProperty('kafkaJS.ssl');
  });

  it('reads the environment: TLS on with KAFKA_TLS=on or a file, SASL only as a whole', () => {
    expect(kafkaSecurityOf(loadEnv({}))).toEqual({});
    expect(kafkaSecurityOf(loadEnv({ KAFKA_TLS: 'on' }))).toEqual({ tls: {} });
    expect(
      kafkaSecurityOf(loadEnv({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })),
    ).toEqual({ sasl: { mechanism: 'plain', username: 'u', password: 'p' } });
    expect(() => loadEnv({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'secret-value' })).toThrow(
      /KAFKA_SASL_MECHANISM \(unset\): expected together with/,
    );
    expect(() => loadEnv({ KAFKA_TLS_CERT_FILE: '/c.pem' })).toThrow(
      /KAFKA_TLS_KEY_FILE \(unset\): expected together with/,
    );
    expect(() => kafkaSecurityOf(loadEnv({ KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' }))).toThrow(
      /KAFKA_TLS_CA_FILE: expected a readable PEM file \(ENOENT\)/,
    );
    const err = (() => {
      try {
        loadEnv({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'secret-value' });
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(err).not.toContain('secret-value');
  });

  it('gives each principal least privilege: the app writes activity only, the notifier reads outputs only', () => {
    const acls = memberflowAcls('mf', { app: 'User:app', workers: 'User:workers', notifier: 'User:notifier' });
    const of = (p: string) => acls.filter((a) => a.principal === p);
    const WRITE = 4;
    const READ = 3;
    expect(of('User:app').map((a) => a.resourceName)).toEqual(['mf.activity.events', 'mf.activity.events']);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison -- pins Kafka's wire values, not kafkajs' enum
    expect(of('User:notifier').filter((a) => a.operation === WRITE)).toEqual([]);
    expect(of('User:notifier').some((a) => a.resourceName === 'mf.activity.events')).toBe(false);
    expect(
      of('User:notifier')
        // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison -- pins Kafka's wire values, not kafkajs' enum
        .filter((a) => a.operation === READ)
        .map((a) => a.resourceName),
    ).toContain('mf.member.tier-changes');
    // The workers' rights stop at the namespace: every pattern is the `mf.` prefix.
    expect(new Set(of('User:workers').map((a) => `${a.resourceName}/${a.resourcePatternType}`))).toEqual(
      new Set(['mf./4']),
    );
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison -- pins Kafka's wire values, not kafkajs' enum
    expect(acls.every((a) => a.permissionType === 3 && a.host === '*')).toBe(true);
  });
});
