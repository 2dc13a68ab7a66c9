--[[
  Not a script of its own: member-store.ts puts it in front of commit-member.lua and
  mark-applied.lua, the two writes a worker's live pointer fences. The reply codes are named
  here once (shared/redis/script-replies.ts names them on the TypeScript side; a unit test
  checks that both agree).
]]
local LOST_RACE = -1
local POINTER_MOVED = -2
local FENCE_MISSING = -3
-- The writer's pointer epoch against the fence (a hash whose field `epoch` is the live pointer's):
-- nil when the write may go on (or the writer follows no pointer: epoch ''), else the reply.
-- A fence holding another epoch means a replay was promoted; a missing fence means Redis lost the
-- workers' data (live workers create it at start).
local function fenceRefusal(fenceKey, epoch)
  if epoch == '' then
    return nil
  end
  local current = redis.call('HGET', fenceKey, 'epoch')
  if not current then
    return FENCE_MISSING
  end
  if current ~= epoch then
    return POINTER_MOVED
  end
  return nil
end
