import { describe, expect, it } from 'vitest';
import { modelParamsOf } from '../../services/recommendations/model.js';
import { loadRules } from '../../shared/config/rules.js';
import { defaultModelParams } from '../../shared/reco/evaluate.js';

describe('recommendation defaults', () => {
  it('the offline evaluation defaults are the model the workers run with the default rules', () => {
    expect(modelParamsOf(loadRules().reco)).toEqual(defaultModelParams);
  });
});
