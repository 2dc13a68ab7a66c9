--[[
  Fenced write of one member's record: compare-and-set on its version.

  KEYS[1]  member record hash ({u:<id>} hash tag)
  ARGV[1]  version the writer loaded ("0" when the record did not exist)
  ARGV[2]  new record, JSON (state, watermarks, recent ids, outbox)
  ARGV[3]  live-pointer hash key of the worker ('' when the writer does not follow one)
  ARGV[4]  the pointer epoch the writer runs under: when the pointer has moved on (a replay
           was promoted), the write is refused with -2, so a worker of the old generation can
           neither change state nor publish after the switch; when the pointer is missing
           (live workers create it at start, so Redis lost their data) the write is refused
           with -3, so no worker carries on from empty state
  ARGV[5]  number of projection changes that follow (default 0), then per change four values:
           'a' (add or update) or 'r' (remove), sorted-set key, score, member. They are written
           only with the record, so a projection never disagrees with it.

  Returns the new version, or -1 when another writer got there first
  (a zombie consumer after a rebalance, or a concurrent instance): the caller
  must reload and redo its batch, which then finds the inputs applied; -2
  when the live pointer moved (see ARGV[4]); -3 when it is missing.
]]
if ARGV[3] ~= nil and ARGV[3] ~= '' then
  local epoch = redis.call('HGET', ARGV[3], 'epoch')
  if not epoch then
    return -3
  end
  if epoch ~= ARGV[4] then
    return -2
  end
end
local current = redis.call('HGET', KEYS[1], 'v')
if (current or '0') ~= ARGV[1] then
  return -1
end
local nextVersion = tonumber(ARGV[1]) + 1
redis.call('HSET', KEYS[1], 'v', nextVersion, 'r', ARGV[2])
local changes = tonumber(ARGV[5] or '0')
for i = 0, changes - 1 do
  local at = 6 + i * 4
  if ARGV[at] == 'a' then
    redis.call('ZADD', ARGV[at + 1], ARGV[at + 2], ARGV[at + 3])
  else
    redis.call('ZREM', ARGV[at + 1], ARGV[at + 3])
  end
end
return nextVersion
