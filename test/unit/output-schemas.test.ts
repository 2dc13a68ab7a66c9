import { describe, expect, it } from 'vitest';
import { topicSpecs, type LogicalTopic } from '../../shared/contracts/topics.js';
import { schemaText } from '../../shared/contracts/schemas.js';
import { compatibilityFor } from '../../shared/registry/codec.js';
import { reasons } from '../../services/tier-evaluation/events.js';

const outputs = topicSpecs.map((t) => t.logical).filter((t): t is LogicalTopic => t !== 'activity.events');

interface Field {
  name: string;
  type: unknown;
}
/** Every field of a schema, nested records included, with its path; and every enum. */
function walk(schema: unknown): {
  fields: Array<{ path: string; field: Field }>;
  enums: Array<{ name: string; symbols: string[]; default?: string }>;
} {
  const fields: Array<{ path: string; field: Field }> = [];
  const enums: Array<{ name: string; symbols: string[]; default?: string }> = [];
  const visit = (t: unknown, path: string): void => {
    if (Array.isArray(t)) {
      t.forEach((x) => visit(x, path));
      return;
    }
    if (t === null || typeof t !== 'object') return;
    const o = t as Record<string, unknown>;
    if (o.type === 'enum') enums.push(o as unknown as { name: string; symbols: string[]; default?: string });
    if (o.type === 'array') visit(o.items, `${path}[]`);
    if (o.type === 'record')
      for (const f of o.fields as Field[]) {
        fields.push({ path: `${path}.${f.name}`, field: f });
        visit(f.type, `${path}.${f.name}`);
      }
  };
  visit(schema, '');
  return { fields, enums };
}

/** The long behind a field's type (a nullable union included), or undefined. */
function longOf(type: unknown): { type: 'long'; logicalType?: string } | 'long' | undefined {
  const t: unknown = Array.isArray(type) ? type.find((x) => x !== 'null') : type;
  if (t === 'long') return 'long';
  if (t && typeof t === 'object' && (t as { type?: unknown }).type === 'long')
    return t as { type: 'long'; logicalType?: string };
  return undefined;
}

describe('output schemas: contracts that evolve', () => {
  it.each(outputs)(
    '%s: every enum has the default symbol "unknown", so readers of this schema read later symbols',
    (topic) => {
      for (const e of walk(JSON.parse(schemaText(topic))).enums) {
        expect(e.symbols, e.name).toContain('unknown');
        expect(e.default, e.name).toBe('unknown');
      }
    },
  );

  it.each(outputs)(
    '%s: every instant (a field named *At, *End or *Timestamp) is timestamp-millis, and nothing else is',
    (topic) => {
      for (const { path, field } of walk(JSON.parse(schemaText(topic))).fields) {
        const long = longOf(field.type);
        if (long === undefined) continue;
        const isInstant = /(At|End|Timestamp)$/.test(field.name);
        expect(typeof long === 'object' ? long.logicalType : undefined, path).toBe(
          isInstant ? 'timestamp-millis' : undefined,
        );
      }
    },
  );

  it('every reason tier-evaluation gives is a symbol of TierChangeReason', () => {
    const reasonEnum = walk(JSON.parse(schemaText('member.tier-changes'))).enums.find(
      (e) => e.name === 'TierChangeReason',
    );
    expect(reasonEnum?.symbols).toEqual(expect.arrayContaining(Object.values(reasons)));
  });

  it('the registry checks outputs both ways over every version, the input backward', () => {
    for (const topic of outputs) expect(compatibilityFor(topic)).toBe('FULL_TRANSITIVE');
    expect(compatibilityFor('activity.events')).toBe('BACKWARD');
  });
});
