import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from './env.js';

/**
 * Business rules: every number a platform may want to change lives here, not in
 * code. The file carries a version that every derived event records, so a
 * replay under new rules is distinguishable from the original run.
 */
const lifecycleSchema = z.object({
  retentionMinActiveDays: z.number().int().min(1),
  activeWindowDays: z.number().int().min(1),
  activeMinDays: z.number().int().min(1),
  dormantAfterDays: z.number().int().min(1),
  exitAfterDays: z.number().int().min(1),
  highValueSpendFen: z.number().int().min(0),
  highValueOnAnnualPlan: z.boolean(),
});

const behaviorSchema = z.object({
  maxRecordBytes: z.number().int().min(256),
  maxFutureSkewMs: z.number().int().min(0),
  maxAmountFen: z.number().int().min(1),
  maxRedeemPoints: z.number().int().min(1),
  recentEventIdsPerMember: z.number().int().min(1).max(100_000),
  refundableHistoryPerMember: z.number().int().min(0).max(100_000),
  recentCategoriesPerMember: z.number().int().min(0).max(100),
  /**
   * Longest id-like string an activity event may carry (eventId, userId, itemId, category,
   * referrerId, refundOf, redeemOf, rewardId, source, plan), in UTF-8 bytes; longer is refused
   * with `id_too_long` (services/behavior-events/README.md). Ids become Kafka and Redis keys.
   */
  maxIdBytes: z.number().int().min(16).max(1024).default(128),
  /**
   * Accepted events per member per local day (rules.timeZone) of event time; more is refused
   * with `daily_event_limit`. The default is over 4x the busiest member-day of the full
   * Online Retail file (541 events).
   */
  maxEventsPerMemberPerDay: z.number().int().min(1).max(1_000_000).default(2_500),
  lifecycle: lifecycleSchema,
});

/** An instant in the rules file: epoch ms, or ISO-8601 with an offset (a time without one is ambiguous). */
const instantSchema = z.union([
  z.number().int().min(0),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);

/** A cap on how often one earning rule awards a member, per calendar period in the platform time zone. */
const usageLimitSchema = z.object({
  period: z.enum(['day', 'week', 'month', 'forever']),
  maxAwards: z.number().int().min(0),
});

/**
 * An operator's earning rule, on top of the built-in ones (payment, interaction,
 * referral). `categories`/`tiers` absent = any; a `tiers` condition matches only
 * events that carry a tier (none do yet, see services/points-accrual/earning.ts).
 */
const earningRuleSchema = z.object({
  id: z.string().min(1),
  eventTypes: z.array(z.string().min(1)).min(1),
  categories: z.array(z.string().min(1)).optional(),
  tiers: z.array(z.string().min(1)).optional(),
  fixedPoints: z.number().int().min(0).default(0),
  pointsPerYuan: z.number().int().min(0).default(0),
  limits: z.array(usageLimitSchema).default([]),
});

/** A time-boxed multiplier: [startsAt, endsAt), for the listed event types (absent = all). */
const campaignSchema = z
  .object({
    id: z.string().min(1),
    startsAt: instantSchema,
    endsAt: instantSchema,
    eventTypes: z.array(z.string().min(1)).optional(),
    multiplier: z.number().int().min(1),
  })
  .refine((c) => c.endsAt > c.startsAt, { error: 'endsAt must be after startsAt' });

const pointsSchema = z.object({
  pointsPerYuan: z.number().int().min(0),
  interactionPoints: z.number().int().min(0),
  interactionDailyCap: z.number().int().min(0),
  referralPoints: z.number().int().min(0),
  memberDay: z.object({ dayOfMonth: z.number().int().min(1).max(31), multiplier: z.number().int().min(1) }),
  expiryDays: z.number().int().min(1),
  pendingDays: z.number().int().min(0),
  redemptionUnitPoints: z.number().int().min(1),
  pendingEventTypes: z.array(z.string().min(1)).default(['purchase', 'subscription']),
  earningRules: z.array(earningRuleSchema).default([]),
  campaigns: z.array(campaignSchema).default([]),
  redemptionCancelDays: z.number().int().min(0).default(90),
  cancellableRedemptionsPerMember: z.number().int().min(0).max(10_000).default(64),
  refundableCreditsPerMember: z.number().int().min(0).max(100_000).default(256),
  qualifyingWindowDays: z.number().int().min(1).default(365),
  /** Referral abuse controls, decided on the referrer's own state (services/points-accrual/referrals.ts). */
  referrals: z
    .object({
      /** Refuse a referral whose new member referred this referrer before. */
      refuseCycles: z.boolean().default(true),
      /**
       * Refuse a referral for a referrer with no own activity at or before the referral's time, as far
       * as it has reached the referrer's state: a referral travels from the new member's partition and
       * can overtake the referrer's own first events, so this is off by default (on where referrers
       * are established members).
       */
      requireEarlierActivity: z.boolean().default(false),
      /** Paid referrals per referrer per local day; more are refused. */
      paidPerDay: z.number().int().min(0).max(10_000).default(5),
    })
    .default({ refuseCycles: true, requireEarlierActivity: false, paidPerDay: 5 }),
});

const tierSchema = z.object({
  name: z.string().min(1),
  label: z.string(),
  minPoints: z.number().int().min(0),
  benefits: z.array(z.string()),
});

/**
 * Tier evaluation (services/tier-evaluation/README.md): the ladder, the rolling
 * window of qualifying points, the grace period before a downgrade, how far a
 * downgrade goes, and the floors paid plans set.
 */
const tiersSchema = z
  .object({
    windowDays: z.number().int().min(1),
    graceDays: z.number().int().min(0),
    ladder: z
      .array(tierSchema)
      .min(1)
      .refine((l) => l[0]?.minPoints === 0, { error: 'the lowest tier must start at 0 points' })
      .refine((l) => l.every((t, i) => i === 0 || t.minPoints > (l[i - 1]?.minPoints ?? -1)), {
        error: 'tiers must be in ascending order of minPoints',
      }),
    /** plan (as in subscription events) → the lowest tier an active subscription of it keeps. */
    planFloors: z.record(z.string(), z.string()),
    /** At the end of a grace period: straight to the tier the points support, or one tier down (with a new grace period if still short). */
    downgrade: z.enum(['direct', 'stepwise']).default('direct'),
    /** Bound on the (instant, points) entries kept per member for the rolling window; beyond it the two closest entries merge. */
    maxWindowEntries: z.number().int().min(2).max(100_000).default(1024),
  })
  .superRefine((t, ctx) => {
    const names = new Set(t.ladder.map((x) => x.name));
    if (names.size !== t.ladder.length)
      ctx.addIssue({ code: 'custom', path: ['ladder'], message: 'tier names must be unique' });
    for (const [plan, tier] of Object.entries(t.planFloors)) {
      if (!names.has(tier))
        ctx.addIssue({
          code: 'custom',
          path: ['planFloors', plan],
          message: `floor tier ${tier} is not in the ladder`,
        });
    }
  });

/**
 * Parameters of the purchase-count model (BG/NBD or MBG/NBD) and, optionally, the
 * Gamma-Gamma spend model, as `memberflow churn fit` prints them. `unit` is the time
 * unit they were fitted in (alpha is a rate per unit). `version` is carried on every
 * churn-risk event, so a consumer knows which parameters scored it.
 */
const churnModelSchema = z.object({
  version: z.string().min(1),
  model: z.enum(['bgnbd', 'mbgnbd']),
  unit: z.enum(['weeks', 'days']),
  r: z.number().positive(),
  alpha: z.number().positive(),
  a: z.number().positive(),
  b: z.number().positive(),
  spend: z
    .object({ p: z.number().positive(), q: z.number().positive(), v: z.number().positive() })
    .nullable()
    .default(null),
});

/** Churn prediction (services/churn-prediction/README.md): bands on P(alive), horizons, the model in force. */
const churnSchema = z
  .object({
    /** P(alive) below `mediumBelow` is medium risk, below `highBelow` high risk; otherwise low. */
    bands: z.object({ mediumBelow: z.number().gt(0).lt(1), highBelow: z.number().gt(0).lt(1) }),
    expectedPurchasesDays: z.number().int().min(1),
    lifetimeValue: z.object({ months: z.number().int().min(1).max(240), monthlyDiscountRate: z.number().min(0).lt(1) }),
    /** Bound on the distinct purchase days kept per member; older ones are counted, not kept. */
    maxPurchaseDays: z.number().int().min(2).max(100_000).default(1024),
    model: churnModelSchema,
  })
  .refine((c) => c.bands.highBelow < c.bands.mediumBelow, {
    error: 'bands.highBelow must be below bands.mediumBelow',
  });

/**
 * Recommendations (services/recommendations/README.md): the collaborative-filtering model's
 * bounds and similarity, the list length, and how often each trigger may fire per member.
 */
const recoSchema = z
  .object({
    similarity: z.enum(['cosine', 'llr', 'jaccard', 'count']).default('cosine'),
    /** K: co-items kept per item (Space-Saving bound, shared/reco/cooccurrence.ts). */
    coItemsPerItem: z.number().int().min(1).max(100_000).default(100),
    /** R: a member's most recent items, paired with each new item and driving their scores. */
    recentItems: z.number().int().min(1).max(1_000).default(20),
    /** O: items remembered as owned (never recommended, not counted twice). */
    ownedItems: z.number().int().min(1).max(100_000).default(1_000),
    categoriesPerMember: z.number().int().min(0).max(100).default(5),
    popularity: z
      .object({ global: z.number().int().min(1).max(100_000), category: z.number().int().min(1).max(100_000) })
      .default({ global: 500, category: 100 }),
    /** N: items per recommendation event. */
    top: z.number().int().min(1).max(100).default(10),
    /** At most one event per member per trigger per this many hours of event time. */
    minIntervalHours: z
      .object({ next_item: z.number().min(0), win_back: z.number().min(0), tier_upgrade: z.number().min(0) })
      .default({ next_item: 24, win_back: 720, tier_upgrade: 0 }),
    /** Tier benefit (rules tiers.ladder[].benefits) → item categories it unlocks, for tier_upgrade events. */
    benefitCategories: z.record(z.string(), z.array(z.string().min(1))).default({}),
  })
  .refine((r) => r.recentItems <= r.ownedItems, { error: 'recentItems must not exceed ownedItems' });

/**
 * Bounds every worker's kernel applies to a member's (or item's) state: an input that would
 * take the encoded state past `maxBytes` is refused with `state_too_large` (live and reference
 * runs alike). The default, 34 KiB, is four times the largest encoded state the full-year
 * Online Retail replay produces (8,623 bytes, a points state; `npm run bench:state-sizes`,
 * docs/BENCHMARKS.md "State size cap"), rounded up.
 */
export const defaultMaxStateBytes = 34_816;
const stateSchema = z.object({
  maxBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(defaultMaxStateBytes),
});

export const rulesSchema = z
  .object({
    version: z.string().min(1),
    timeZone: z.string().refine(isKnownTimeZone, { error: 'expected an IANA time zone such as Asia/Shanghai' }),
    behavior: behaviorSchema,
    points: pointsSchema,
    tiers: tiersSchema,
    churn: churnSchema,
    reco: recoSchema.default(() => recoSchema.parse({})),
    state: stateSchema.default(() => stateSchema.parse({})),
  })
  .strict();

export type Rules = z.infer<typeof rulesSchema>;
export type LifecycleRules = z.infer<typeof lifecycleSchema>;
export type ChurnRules = z.infer<typeof churnSchema>;
export type RecoRules = z.infer<typeof recoSchema>;
export type ChurnModelParams = z.infer<typeof churnModelSchema>;
export { churnModelSchema };

function isKnownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const defaultRulesPath = fileURLToPath(new URL('../../config/rules.default.json', import.meta.url));

export function parseRules(raw: unknown, origin: string): Rules {
  const parsed = rulesSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid rules file ${origin}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function loadRules(path: string = defaultRulesPath): Rules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read rules file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`rules file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseRules(raw, path);
}

export function defaultRules(): Rules {
  return loadRules(defaultRulesPath);
}
