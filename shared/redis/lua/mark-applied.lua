--[[
  Raises a worker's applied marks: per input partition, the highest offset a batch of this
  state namespace may have applied and published. Sent in the same pipeline as the batch's
  member writes, and the batch publishes only once every reply is in, so whatever a worker
  published is at or below its mark. A promote finishes the old generation up to these marks
  (cli/commands/replay/promote.ts), so no input the old generation may have published is
  decided again under new rules.

  KEYS[1]  the marks hash (field: topic:partition, value: offset)
  KEYS[2]  when ARGV[1] is not '': the worker's fence in the marks' slot (as in commit-member.lua)
  ARGV[1]  the pointer epoch the writer runs under ('' when it follows no pointer; refused like
           commit-member.lua: POINTER_MOVED, FENCE_MISSING, see fence.lua)
  ARGV[2..] pairs: topic:partition, offset

  Returns 1, or POINTER_MOVED / FENCE_MISSING.
]]
-- fence.lua comes first (member-store.ts): fenceRefusal and the reply codes.
local refused = fenceRefusal(KEYS[2], ARGV[1])
if refused then
  return refused
end
-- Offsets are decimal strings without leading zeros: longer is larger, then compare as text.
local function greater(a, b)
  if #a ~= #b then
    return #a > #b
  end
  return a > b
end
for i = 2, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or greater(ARGV[i + 1], current) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
