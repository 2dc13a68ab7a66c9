import { describe, expect, it } from 'vitest';
import { failpointFromSpec } from '../../shared/kernel/failpoints.js';

describe('failpoints', () => {
  it('pauses at the n-th pass of its point only, and lets the batch go on afterwards', async () => {
    const fp = failpointFromSpec('pause-after-state-write:2:10');
    expect(fp('after-state-write')).toBeUndefined();
    expect(fp('after-publish')).toBeUndefined();
    const pause = fp('after-state-write');
    expect(pause).toBeInstanceOf(Promise);
    await expect(pause).resolves.toBeUndefined();
    expect(fp('after-state-write')).toBeUndefined();
  });

  it('is off for no spec and for specs it cannot read, instead of doing something else', () => {
    for (const spec of [
      undefined,
      '',
      'pause-after-publish:1',
      'kill-after-publish:1:500',
      'stall-after-publish:1',
      'pause-before-publish:1:10',
    ]) {
      const fp = failpointFromSpec(spec);
      expect(fp('after-publish'), String(spec)).toBeUndefined();
      expect(fp('after-state-write'), String(spec)).toBeUndefined();
    }
  });
});
