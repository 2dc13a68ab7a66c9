import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicSpecs, type LogicalTopic } from '../../shared/contracts/topics.js';
import { schemaText } from '../../shared/contracts/schemas.js';
import { subjectFor } from '../../shared/registry/codec.js';
import { TestStack } from '../support/harness.js';

/** memberflow's output topics: all but the input. */
const outputs = topicSpecs.map((t) => t.logical).filter((t): t is LogicalTopic => t !== 'activity.events');

/** The next version a later memberflow could register: one more optional field, and one more symbol in every enum. */
function nextVersion(schema: unknown): unknown {
  const walk = (t: unknown): unknown => {
    if (Array.isArray(t)) return t.map(walk);
    if (t === null || typeof t !== 'object') return t;
    const o = t as Record<string, unknown>;
    if (o.type === 'enum') return { ...o, symbols: [...(o.symbols as string[]), 'next_symbol'] };
    if (o.type === 'array') return { ...o, items: walk(o.items) };
    if (o.type === 'record')
      return { ...o, fields: (o.fields as Array<Record<string, unknown>>).map((f) => ({ ...f, type: walk(f.type) })) };
    return o;
  };
  const next = walk(schema) as { fields: unknown[] };
  return { ...next, fields: [...next.fields, { name: 'nextField', type: ['null', 'string'], default: null }] };
}

/** What a reader of the current schema should see of a next-version value: the new symbol as its default, the new field gone. */
function asOldReaderSees(value: unknown): unknown {
  if (value === 'next_symbol') return 'unknown';
  if (Array.isArray(value)) return value.map(asOldReaderSees);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'nextField')
      .map(([k, v]) => [k, asOldReaderSees(v)]),
  );
}

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('schema registry (Confluent-compatible API) round trip', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await TestStack.create('registry', { partitions: 1 });
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset when beforeAll failed
  afterAll(async () => s?.close());

  const levelOf = async (topic: LogicalTopic) => {
    const res = await fetch(`${s.env.SCHEMA_REGISTRY_URL}/config/${encodeURIComponent(subjectFor(s.ns, topic))}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { compatibilityLevel: string }).compatibilityLevel.toUpperCase();
  };

  it('registered every topic under <topic>-value: outputs FULL_TRANSITIVE, the input activity.events BACKWARD', async () => {
    const subject = subjectFor(s.ns, 'behavior.events');
    expect(await s.clients.codec.registry.getLatestSchemaId(subject)).toBe(s.clients.codec.schemaId('behavior.events'));
    for (const topic of outputs) expect(await levelOf(topic), topic).toBe('FULL_TRANSITIVE');
    expect(await levelOf('activity.events')).toBe('BACKWARD');
  });

  it('a subject that exists keeps its level: registering again does not change or trip over it', async () => {
    await s.clients.codec.registerAll();
    expect(await levelOf('member.tier-changes')).toBe('FULL_TRANSITIVE');
    expect(await levelOf('activity.events')).toBe('BACKWARD');
  });

  it('encodes Confluent-framed Avro and decodes it back', async () => {
    const value = {
      id: 'dlq:x',
      worker: 'w',
      reason: 'r',
      message: 'm',
      sourceTopic: 't',
      sourcePartition: 0,
      sourceOffset: '12',
      sourceTimestamp: 1,
      eventId: null,
      userId: 'u',
      originalKey: Buffer.from('u'),
      originalValue: Buffer.from([0, 1, 2, 255]),
      originalSize: 4,
    };
    const bytes = await s.clients.codec.encode('activity.dlq', value);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(s.clients.codec.schemaId('activity.dlq'));
    expect(await s.clients.codec.decode(bytes)).toEqual(value);
  });

  it('accepts the next version of every output schema, and a reader generated from the current one reads its records', async () => {
    const registry = s.clients.codec.registry;
    for (const topic of outputs) {
      const subject = subjectFor(s.ns, topic);
      const current = JSON.parse(schemaText(topic)) as avro.Schema;
      const next = nextVersion(current);
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(next) },
        { subject, compatibility: COMPATIBILITY.FULL_TRANSITIVE },
      );
      expect(id, topic).not.toBe(s.clients.codec.schemaId(topic));
      const reader = avro.Type.forSchema(current);
      const writer = avro.Type.forSchema(next as avro.Schema);
      const resolver = reader.createResolver(writer);
      const hasEnum = schemaText(topic).includes('"enum"');
      let sawNewSymbol = false;
      for (let i = 0; i < 100; i++) {
        const value = writer.random() as unknown as Record<string, unknown>;
        const framed = await registry.encode(id, value);
        expect(framed.readUInt32BE(1)).toBe(id);
        const read: unknown = reader.fromBuffer(framed.subarray(5), resolver);
        expect(plain(read), topic).toEqual(plain(asOldReaderSees(value)));
        sawNewSymbol ||= JSON.stringify(plain(value)).includes('"next_symbol"');
      }
      // Every enum has a default symbol, so the new symbol (drawn at random above) reaches old readers as that default.
      expect(sawNewSymbol, topic).toBe(hasEnum);
    }
  });

  it('refuses a change that old readers could not read', async () => {
    const subject = subjectFor(s.ns, 'member.tier-changes');
    const schema = JSON.parse(schemaText('member.tier-changes')) as { fields: Record<string, unknown>[] };
    const required = { ...schema, fields: [...schema.fields, { name: 'mandatoryNewField', type: 'string' }] };
    await expect(
      s.clients.codec.registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(required) },
        { subject, compatibility: COMPATIBILITY.FULL_TRANSITIVE },
      ),
    ).rejects.toThrow(/409|incompatib/i);
    // Dropping a field without a default: new records would lack what the first schema's readers require.
    const dropped = { ...schema, fields: schema.fields.filter((f) => f.name !== 'newTier') };
    await expect(
      s.clients.codec.registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(dropped) },
        { subject, compatibility: COMPATIBILITY.FULL_TRANSITIVE },
      ),
    ).rejects.toThrow(/409|incompatib/i);
  });
});
