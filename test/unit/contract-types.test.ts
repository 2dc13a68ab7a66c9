/**
 * The TypeScript contract types and the Avro schemas cannot drift: shared/contracts/avro.generated.ts is what
 * scripts/contract-types.mjs makes of schemas/*.avsc (checked at run time below), and each hand-written type
 * conforms to its generated one (checked at compile time: `npm test` runs tsc over this file first).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contractTypes, generatedPath, readSchemas } from '../../scripts/contract-types.mjs';
import type { ActivityEvent } from '../../shared/contracts/activity-event.js';
import type * as Avro from '../../shared/contracts/avro.generated.js';
import type { BehaviorEventValue } from '../../shared/contracts/behavior-event.js';
import type { ChurnRiskValue } from '../../shared/contracts/churn-risk.js';
import type { LedgerEntryValue, LedgerEntryKind, LedgerLotTouch } from '../../shared/contracts/ledger-entry.js';
import type { ChangeKind, MemberTier, Reason, TierChange } from '../../shared/contracts/tier-change.js';
import type { RecoTrigger } from '../../shared/reco/member.js';
import type { RecommendationValue } from '../../services/recommendations/events.js';
import type { ItemUpdateValue } from '../../services/recommendations/inputs.js';
import type { RankedItem } from '../../services/recommendations/model.js';
import type { DeadLetterView } from '../../cli/commands/replay/dlq.js';

/** Every value of Hand is a value of the schema, and both name the same fields. */
type Conforms<Hand, Schema> = [Hand] extends [Schema]
  ? [keyof Hand] extends [keyof Schema]
    ? [keyof Schema] extends [keyof Hand]
      ? true
      : false
    : false
  : false;
/** The code knows every symbol of the schema's enum but the reader's fallback `unknown`, and writes no other. */
type Covers<Hand, SchemaEnum> = [Hand] extends [SchemaEnum]
  ? [Exclude<SchemaEnum, 'unknown'>] extends [Hand]
    ? true
    : false
  : false;

// Compile-time checks: a `false` here is a type error, so tsc fails when a type and its schema drift apart.
const conformance: Record<string, true> = {
  activityEvent: true satisfies Conforms<ActivityEvent, Avro.AvroActivityEvent>,
  behaviorEvent: true satisfies Conforms<BehaviorEventValue, Avro.AvroBehaviorEvent>,
  ledgerEntry: true satisfies Conforms<LedgerEntryValue, Avro.AvroPointsMovement>,
  ledgerLot: true satisfies Conforms<LedgerLotTouch, Avro.AvroLotChange>,
  ledgerKind: true satisfies Covers<LedgerEntryKind, Avro.AvroPointsEntryKind>,
  lotBucket: true satisfies Covers<LedgerLotTouch['bucket'], Avro.AvroLotBucket>,
  tierChange: true satisfies Conforms<TierChange, Avro.AvroTierChange>,
  tierChangeKind: true satisfies Covers<ChangeKind, Avro.AvroTierChangeKind>,
  tierChangeReason: true satisfies Covers<Reason, Avro.AvroTierChangeReason>,
  memberTier: true satisfies Conforms<MemberTier, Avro.AvroMemberTier>,
  churnRisk: true satisfies Conforms<ChurnRiskValue, Avro.AvroChurnRisk>,
  recommendation: true satisfies Conforms<RecommendationValue, Avro.AvroRecommendation>,
  recoTrigger: true satisfies Covers<RecoTrigger, Avro.AvroRecoTrigger>,
  scoredItem: true satisfies Conforms<RankedItem, Avro.AvroScoredItem>,
  recoSource: true satisfies Covers<RankedItem['source'], Avro.AvroRecoSource>,
  itemUpdate: true satisfies Conforms<ItemUpdateValue, Avro.AvroItemUpdate>,
  deadLetter: true satisfies Conforms<DeadLetterView, Avro.AvroDeadLetter>,
};

// The checks can fail: a field the schema lacks, a missing field, a wrong type, an enum symbol left out.
// @ts-expect-error a field the schema does not have
true satisfies Conforms<ActivityEvent & { extra: string }, Avro.AvroActivityEvent>;
// @ts-expect-error a schema field the type lacks
true satisfies Conforms<Omit<TierChange, 'sequence'>, Avro.AvroTierChange>;
// @ts-expect-error a nullable schema field typed as always present
true satisfies Conforms<Omit<MemberTier, 'floorTier'> & { floorTier: number }, Avro.AvroMemberTier>;
// @ts-expect-error a schema symbol the code does not know
true satisfies Covers<Exclude<ChangeKind, 'tier_kept'>, Avro.AvroTierChangeKind>;

describe('contract types and Avro schemas', () => {
  it('shared/contracts/avro.generated.ts is what schemas/*.avsc give (else: node scripts/contract-types.mjs --write)', () => {
    expect(readFileSync(generatedPath, 'utf8')).toBe(contractTypes(readSchemas()));
  });

  it('every topic schema has a hand-written type checked against it, but the reprocess marker', () => {
    const topics = readSchemas().map((s) => s.topic);
    // activity.dlq-reprocessed is written in one place (dlq reprocess) from an object literal typed by the generated type.
    expect(topics.filter((t) => t !== 'activity.dlq-reprocessed')).toHaveLength(9);
    expect(Object.keys(conformance)).toHaveLength(17);
  });

  it('maps records, enums, unions, arrays and maps', () => {
    const schema = {
      type: 'record',
      name: 'Sample',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'note', type: ['null', 'string'] },
        { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['a', 'b'] } },
        { name: 'tags', type: { type: 'array', items: ['null', 'string'] } },
        { name: 'counts', type: { type: 'map', values: 'int' } },
        { name: 'inner', type: { type: 'record', name: 'Inner', fields: [{ name: 'ok', type: 'boolean' }] } },
        { name: 'again', type: 'Inner' },
      ],
    };
    const source = contractTypes([{ topic: 'sample', schema }]);
    expect(source).toContain("export type AvroKind = 'a' | 'b';");
    expect(source).toContain('export interface AvroInner {\n  ok: boolean;\n}');
    expect(source).toContain(
      [
        'export interface AvroSample {',
        '  id: string;',
        '  at: number;',
        '  note: null | string;',
        '  kind: AvroKind;',
        '  tags: (null | string)[];',
        '  counts: Record<string, number>;',
        '  inner: AvroInner;',
        '  again: AvroInner;',
        '}',
      ].join('\n'),
    );
    expect(source).toContain("  'sample': AvroSample;");
    expect(() =>
      contractTypes([{ topic: 'bad', schema: { type: 'record', name: 'B', fields: [{ name: 'x', type: 'Nope' }] } }]),
    ).toThrow(/unknown Avro type name Nope/);
  });
});
