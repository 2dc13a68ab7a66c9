--[[
  Fenced write of one member's record: compare-and-set on its version.

  KEYS[1]  member record hash ({u:<id>} hash tag)
  ARGV[1]  version the writer loaded ("0" when the record did not exist)
  ARGV[2]  new record, JSON (state, watermarks, recent ids, outbox)
  ARGV[3]  number of projection changes that follow (optional, default 0), then per change
           four values: 'a' (add or update) or 'r' (remove), sorted-set key, score, member.
           They are written only with the record, so a projection never disagrees with it.

  Returns the new version, or -1 when another writer got there first
  (a zombie consumer after a rebalance, or a concurrent instance): the caller
  must reload and redo its batch, which then finds the inputs applied.
]]
local current = redis.call('HGET', KEYS[1], 'v')
if (current or '0') ~= ARGV[1] then
  return -1
end
local nextVersion = tonumber(ARGV[1]) + 1
redis.call('HSET', KEYS[1], 'v', nextVersion, 'r', ARGV[2])
local changes = tonumber(ARGV[3] or '0')
for i = 0, changes - 1 do
  local at = 4 + i * 4
  if ARGV[at] == 'a' then
    redis.call('ZADD', ARGV[at + 1], ARGV[at + 2], ARGV[at + 3])
  else
    redis.call('ZREM', ARGV[at + 1], ARGV[at + 3])
  end
end
return nextVersion
