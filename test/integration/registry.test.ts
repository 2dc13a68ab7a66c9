import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaText, subjectFor } from '../../shared/registry/codec.js';
import { TestStack } from '../support/harness.js';

describe('schema registry (Confluent-compatible API) round trip', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('registry', { partitions: 1 });
  });
  afterAll(async () => s?.close());

  it('registered every topic schema under <topic>-value with BACKWARD compatibility', async () => {
    const subject = subjectFor(s.ns, 'behavior.events');
    const latest = await s.clients.codec.registry.getLatestSchemaId(subject);
    expect(latest).toBe(s.clients.codec.schemaId('behavior.events'));
    const res = await fetch(`${s.env.SCHEMA_REGISTRY_URL}/config/${encodeURIComponent(subject)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel.toUpperCase()).toBe('BACKWARD');
  });

  it('encodes Confluent-framed Avro and decodes it back', async () => {
    const value = {
      id: 'dlq:x', worker: 'w', reason: 'r', message: 'm', sourceTopic: 't', sourcePartition: 0, sourceOffset: '12',
      sourceTimestamp: 1, eventId: null, userId: 'u', originalKey: Buffer.from('u'), originalValue: Buffer.from([0, 1, 2, 255]), originalSize: 4,
    };
    const bytes = await s.clients.codec.encode('activity.dlq', value);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(s.clients.codec.schemaId('activity.dlq'));
    expect(await s.clients.codec.decode(bytes)).toEqual(value);
  });

  it('refuses an incompatible change and accepts a compatible one', async () => {
    const subject = subjectFor(s.ns, 'behavior.events');
    const schema = JSON.parse(schemaText('behavior.events')) as { fields: Record<string, unknown>[] };
    const incompatible = { ...schema, fields: [...schema.fields, { name: 'mandatoryNewField', type: 'string' }] };
    await expect(
      s.clients.codec.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(incompatible) }, { subject }),
    ).rejects.toThrow(/409|incompatib/i);
    const compatible = { ...schema, fields: [...schema.fields, { name: 'optionalNewField', type: ['null', 'string'], default: null }] };
    const { id } = await s.clients.codec.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(compatible) }, { subject });
    expect(id).not.toBe(s.clients.codec.schemaId('behavior.events'));
  });
});
