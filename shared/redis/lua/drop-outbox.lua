--[[
  Drops a member's outbox entries whose inputs are committed: their outputs reached Kafka and
  the consumer group will not hand those inputs out again, so nothing re-publishes them.
  Entries of later inputs (a batch written after the commit being settled) stay. No version
  bump: entries are immutable and no writer rewrites a dropped one (commit-member.lua adds
  and removes entries by field).

  KEYS[1]  the member's outbox hash (field "<topic>:<partition>@<offset>")
  ARGV     pairs: "<topic>:<partition>", the committed position (next offset to read);
           entries of that topic-partition below it are dropped

  Returns the number of entries dropped.
]]
-- Offsets are decimal strings without leading zeros: longer is larger, then compare as text.
local function below(a, b)
  if #a ~= #b then
    return #a < #b
  end
  return a < b
end
local upTo = {}
for i = 1, #ARGV, 2 do
  upTo[ARGV[i]] = ARGV[i + 1]
end
local dropped = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  local tp, offset = string.match(field, '^(.*)@(%d+)$')
  local limit = tp and upTo[tp]
  if limit and below(offset, limit) then
    redis.call('HDEL', KEYS[1], field)
    dropped = dropped + 1
  end
end
return dropped
