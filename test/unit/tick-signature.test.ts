import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { tickerCommand } from '../../cli/commands/ticker.js';
import { ConfigError, loadEnv } from '../../shared/config/env.js';
import { defaultTickMaxAheadMs, signTick, tickAheadRefusal, tickRefusal } from '../../shared/kernel/tick-signature.js';
import { rules } from './fixtures.js';

const key = 'k'.repeat(32);
const topic = 'ns.activity.events';

describe('tick signatures: only the ticker moves time on an upstream topic', () => {
  it("accepts the ticker's signature for exactly its topic, partition and time", () => {
    const sig = signTick(key, topic, 3, 1_000);
    expect(tickRefusal(key, topic, 3, 1_000, sig)).toBeNull();
    expect(tickRefusal(key, topic, 4, 1_000, sig)?.reason).toBe('forged_tick');
    expect(tickRefusal(key, topic, 3, 1_001, sig)?.reason).toBe('forged_tick');
    expect(tickRefusal(key, 'other.activity.events', 3, 1_000, sig)?.reason).toBe('forged_tick');
    expect(tickRefusal('x'.repeat(32), topic, 3, 1_000, sig)?.reason).toBe('forged_tick');
    expect(tickRefusal(key, topic, 3, 1_000, 'zz')?.reason).toBe('forged_tick');
    expect(tickRefusal(key, topic, 3, undefined, sig)?.reason).toBe('forged_tick');
  });

  it("bounds a signed tick by the broker's append time: at most MEMBERFLOW_TICK_MAX_AHEAD_MS ahead, any time behind", () => {
    const appended = Date.UTC(2026, 11, 7, 12);
    expect(tickAheadRefusal(appended + defaultTickMaxAheadMs, appended, defaultTickMaxAheadMs)).toBeNull();
    expect(tickAheadRefusal(Date.UTC(2011, 0, 1), appended, defaultTickMaxAheadMs)).toBeNull();
    const refused = tickAheadRefusal(appended + defaultTickMaxAheadMs + 1, appended, defaultTickMaxAheadMs);
    expect(refused?.reason).toBe('tick_ahead_of_append_time');
    expect(refused?.message).not.toContain(String(appended));
    expect(loadEnv({}).MEMBERFLOW_TICK_MAX_AHEAD_MS).toBe(defaultTickMaxAheadMs);
  });

  it('refuses an unsigned tick, and every tick when the worker has no key', () => {
    expect(tickRefusal(key, topic, 0, 1_000, undefined)?.reason).toBe('unsigned_tick');
    expect(tickRefusal(undefined, topic, 0, 1_000, signTick(key, topic, 0, 1_000))?.reason).toBe('unsigned_tick');
    const refusal = tickRefusal(key, topic, 0, 1_000, 'ab');
    expect(refusal?.message).not.toContain('ab');
  });

  it('the ticker refuses to start without a key, naming the variable; a short key is refused as config', async () => {
    const env = loadEnv({});
    await expect(
      tickerCommand({ env, rules, log: pino({ level: 'silent' }) }, { intervalMs: 1, once: true }),
    ).rejects.toThrow(ConfigError);
    await expect(
      tickerCommand({ env, rules, log: pino({ level: 'silent' }) }, { intervalMs: 1, once: true }),
    ).rejects.toThrow(/MEMBERFLOW_TICK_KEY/);
    expect(() => loadEnv({ MEMBERFLOW_TICK_KEY: 'short' })).toThrow(/MEMBERFLOW_TICK_KEY: expected at least 16/);
    expect(loadEnv({ MEMBERFLOW_TICK_KEY: '' }).MEMBERFLOW_TICK_KEY).toBeUndefined();
  });
});
