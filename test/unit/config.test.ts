import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../shared/config/env.js';
import { defaultRules, parseRules } from '../../shared/config/rules.js';

describe('configuration', () => {
  it('has working defaults for a local stack', () => {
    const env = loadEnv({});
    expect(env.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(env.MEMBERFLOW_NAMESPACE).toBe('mf');
  });

  it.each([
    ['KAFKA_BROKERS', 'localhost'],
    ['SCHEMA_REGISTRY_URL', 'registry:8081'],
    ['REDIS_URL', 'localhost:6379'],
    ['MEMBERFLOW_NAMESPACE', 'Has Spaces'],
    ['LOG_LEVEL', 'loud'],
  ])('names the bad variable %s', (name, value) => {
    expect(() => loadEnv({ [name]: value })).toThrow(ConfigError);
    expect(() => loadEnv({ [name]: value })).toThrow(new RegExp(`${name}: `));
    expect(() => loadEnv({ [name]: value })).not.toThrow(value); // the rule, never the value
  });

  it('ships the domain defaults in the rules file', () => {
    const r = defaultRules();
    expect(r.timeZone).toBe('Asia/Shanghai');
    expect(r.points).toMatchObject({
      pointsPerYuan: 1,
      interactionPoints: 5,
      interactionDailyCap: 10,
      referralPoints: 50,
      expiryDays: 365,
      redemptionUnitPoints: 100,
    });
    expect(r.points.memberDay).toEqual({ dayOfMonth: 18, multiplier: 2 });
    expect(r.tiers.ladder.map((t) => [t.name, t.minPoints])).toEqual([
      ['bronze', 0],
      ['silver', 101],
      ['gold', 501],
    ]);
    expect(r.tiers.graceDays).toBe(30);
    expect(r.tiers.planFloors).toEqual({ annual: 'silver' });
  });

  it('refuses a rules file with a bad value, naming the path', () => {
    const bad = { ...defaultRules(), timeZone: 'Mars/Olympus' };
    expect(() => parseRules(bad, 'x.json')).toThrow(/timeZone/);
    const unordered = defaultRules();
    unordered.tiers.ladder = [...unordered.tiers.ladder].reverse();
    expect(() => parseRules(unordered, 'x.json')).toThrow(/tiers.ladder/);
  });
});
