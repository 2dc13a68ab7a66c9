import { loadEnv, type Env } from '../shared/config/env.js';
import { defaultRulesPath, loadRules, type Rules } from '../shared/config/rules.js';
import { createLogger, type Logger } from '../shared/log.js';

/** What every worker the CLI runs takes from the environment (the runtime itself reads none). */
export function workerSettings(env: Env): { tickKey?: string; tickMaxAheadMs: number; failpoint?: string } {
  return {
    tickMaxAheadMs: env.MEMBERFLOW_TICK_MAX_AHEAD_MS,
    ...(env.MEMBERFLOW_TICK_KEY !== undefined ? { tickKey: env.MEMBERFLOW_TICK_KEY } : {}),
    ...(env.MEMBERFLOW_FAILPOINT !== undefined ? { failpoint: env.MEMBERFLOW_FAILPOINT } : {}),
  };
}

export interface CommandContext {
  env: Env;
  rules: Rules;
  log: Logger;
}

/** Config and logger for a command; a bad variable stops here with a clear message. */
export function commandContext(): CommandContext {
  const env = loadEnv();
  const rules = loadRules(env.MEMBERFLOW_RULES_FILE ?? defaultRulesPath);
  const log = createLogger(env.LOG_LEVEL);
  return { env, rules, log };
}
