/**
 * The refusals of the fenced scripts (lua/commit-member.lua, lua/mark-applied.lua), as
 * lua/fence.lua names them; test/unit/script-replies.test.ts checks that the two agree.
 */
export const scriptReply = {
  /** Another writer changed the member's record since it was loaded: reload and redo the batch. */
  lostRace: -1,
  /** The worker's live pointer moved on (a promote): this generation must stop. */
  pointerMoved: -2,
  /** The fence is gone: Redis lost the workers' data; no worker may carry on from empty state. */
  fenceMissing: -3,
} as const;
