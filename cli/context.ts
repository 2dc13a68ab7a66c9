import { loadEnv, type Env } from '../shared/config/env.js';
import { defaultRulesPath, loadRules, type Rules } from '../shared/config/rules.js';
import { createLogger, type Logger } from '../shared/log.js';

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
