--[[
  Removes members from a partition's outbox index once their entries below a committed position
  were dropped (drop-outbox.lua): only the listed members, and only a row that points below the
  position. A row of an unlisted member stays, so nothing it points at is orphaned; a row that
  points at a later entry (written by a batch after the one being settled) stays too.

  KEYS[1]  the partition's outbox index (sorted set: member, offset of its latest entry)
  ARGV[1]  the committed position (next offset to read)
  ARGV[2..] the members whose entries below it were dropped

  Returns the number of rows removed.
]]
local position = tonumber(ARGV[1])
local removed = 0
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < position then
    redis.call('ZREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
