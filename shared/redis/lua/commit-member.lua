--[[
  Fenced write of one member's record: compare-and-set on its version. Every key is in KEYS
  and all of them share the member's slot (shared/redis/keys.ts), so the script runs on a
  Redis Cluster as on one node.

  KEYS[1]  member record (string: "<version> <stateBytes> <kernelBytes>\n" then the state,
           the kernel's watermarks and the recent-id fingerprints; see record-codec.ts)
  KEYS[2]  the member's outbox hash (field "<topic>:<partition>@<offset>", value: the
           outputs of that input as JSON)
  KEYS[3]  when ARGV[3] is not '': the worker's fence in this slot, a hash whose field
           `epoch` is the live pointer's epoch (on one node the live pointer itself; on a
           cluster its copy in this slot, see shared/redis/live-pointer.ts)
  then     the projection shard keys the changes below name by index
  ARGV[1]  version the writer loaded ("0" when the record did not exist)
  ARGV[2]  new record without its version (this script prefixes the next version)
  ARGV[3]  the pointer epoch the writer runs under ('' when the writer follows no pointer):
           when the fence holds another epoch (a replay was promoted), the write is refused
           with -2, so a worker of the old generation can neither change state nor publish
           after the switch; when the fence is missing (live workers create it at start, so
           Redis lost their data) it is refused with -3, so no worker carries on from empty state
  ARGV[4]  number of outbox entries to add (n)
  ARGV[5]  number of outbox entries to remove (m): dropped because their inputs are behind
           the consumer's position
  ARGV[6]  number of projection changes (p)
  then n pairs (field, outputs JSON), m fields, and p changes of four values each:
           'a' (add or update) or 'r' (remove), the index in KEYS of the shard, score, member.
           Projections are written only with the record, so they never disagree with it.

  Returns the new version, or LOST_RACE (-1) when another writer got there first
  (a zombie consumer after a rebalance, or a concurrent instance): the caller
  must reload and redo its batch, which then finds the inputs applied; POINTER_MOVED (-2)
  when the pointer moved (see ARGV[3]); FENCE_MISSING (-3) when the fence is missing
  (the codes: fence.lua).
]]
-- fence.lua comes first (member-store.ts): fenceRefusal and the reply codes.
local refused = fenceRefusal(KEYS[3], ARGV[3])
if refused then
  return refused
end
-- The version is the record's first word: read only the start of the record.
local head = redis.call('GETRANGE', KEYS[1], 0, 24)
local current = string.match(head, '^(%d+) ') or '0'
if current ~= ARGV[1] then
  return LOST_RACE
end
local nextVersion = tonumber(ARGV[1]) + 1
redis.call('SET', KEYS[1], nextVersion .. ' ' .. ARGV[2])
local adds = tonumber(ARGV[4])
local removes = tonumber(ARGV[5])
local changes = tonumber(ARGV[6])
-- In slices: unpack of thousands of values would overflow Lua's C stack.
local function each(command, from, count, width)
  local slice = 500 * width
  for s = from, from + count * width - 1, slice do
    redis.call(command, KEYS[2], unpack(ARGV, s, math.min(s + slice, from + count * width) - 1))
  end
  return from + count * width
end
local at = each('HSET', 7, adds, 2)
at = each('HDEL', at, removes, 1)
for i = 0, changes - 1 do
  local c = at + i * 4
  local shard = KEYS[tonumber(ARGV[c + 1])]
  if ARGV[c] == 'a' then
    redis.call('ZADD', shard, ARGV[c + 2], ARGV[c + 3])
  else
    redis.call('ZREM', shard, ARGV[c + 3])
  end
end
return nextVersion
