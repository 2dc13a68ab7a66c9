--[[
  Fenced write of one member's record: compare-and-set on its version.

  KEYS[1]  member record hash ({u:<id>} hash tag)
  ARGV[1]  version the writer loaded ("0" when the record did not exist)
  ARGV[2]  new record, JSON (state, watermarks, recent ids, outbox)

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
return nextVersion
