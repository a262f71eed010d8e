/**
 * The Lua scripts of the Redis backend. Each touches the keys of ONE hash tag (one room, or the
 * node registry), so every script runs on Redis Cluster too. Lua numbers are doubles: the
 * scripts use arithmetic, never bit operations, on sequence numbers (exact up to 2^53), and
 * format them with `%.0f` (Lua's `tostring` switches to exponent notation above 1e14).
 * @module
 */

const VARINT = `
local function varint(n)
  local out = {}
  while n >= 128 do
    out[#out + 1] = n % 128 + 128
    n = math.floor(n / 128)
  end
  out[#out + 1] = n
  return string.char(unpack(out))
end
`;

/**
 * Appends one reliable frame to a room's log and publishes it, atomically.
 *
 * KEYS[1] = `{room}:log` (hash: epoch, seq), KEYS[2] = `{room}:hist` (stream).
 * ARGV[1] = the room's bus channel, ARGV[2] = the publisher's node envelope header,
 * ARGV[3] = the frame (`header ‖ message`), ARGV[4] = a random non-zero uint32 used as the
 * epoch if the room has none (first use, or its keys expired, or Redis lost its data),
 * ARGV[5] = history size (`XADD MAXLEN ~`), ARGV[6] = idle expiry of both keys in ms,
 * ARGV[7] = `PUBLISH`, or `SPUBLISH` on a Redis Cluster (the channel shares the keys' hash tag,
 * so it is in their slot).
 *
 * Effects: seq = HINCRBY seq 1; entry = frame ‖ 0x20 varint(seq) ‖ 0x28 varint(epoch);
 * XADD hist MAXLEN ~ size `<seq>-0` f entry; PEXPIRE both; (S)PUBLISH channel (envelope ‖ entry).
 * Returns `{seq, epoch}` as decimal strings.
 */
export const APPEND_LUA = `${VARINT}
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', '0')
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local seqs = string.format('%.0f', seq)
local entry = ARGV[3] .. '\\32' .. varint(seq) .. '\\40' .. varint(tonumber(epoch))
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], seqs .. '-0', 'f', entry)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call(ARGV[7], ARGV[1], ARGV[2] .. entry)
return {seqs, epoch}
`;

/**
 * Reads a room's history after a sequence number.
 *
 * KEYS as {@link APPEND_LUA}. ARGV[1] = epoch, ARGV[2] = afterSeq, ARGV[3] = limit (≥ 1).
 * Returns `{epoch, seq}` (the head; the history is not readable: unknown room, other epoch,
 * afterSeq beyond the head, or entries after afterSeq trimmed) or
 * `{epoch, seq, 'ok', id1, entry1, id2, entry2, …}` with ids `<seq>-0`, oldest first.
 */
export const READ_LUA = `
local h = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
if not h[1] then return {'0', '0'} end
if h[1] ~= ARGV[1] then return {h[1], h[2]} end
local after = tonumber(ARGV[2])
local head = tonumber(h[2])
if after > head or after < 0 then return {h[1], h[2]} end
local res = {h[1], h[2], 'ok'}
if after == head then return res end
local from = string.format('%.0f', after + 1) .. '-0'
local r = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', ARGV[3])
if #r == 0 or r[1][1] ~= from then return {h[1], h[2]} end
for i = 1, #r do
  res[#res + 1] = r[i][1]
  res[#res + 1] = r[i][2][2]
end
return res
`;

/**
 * The head of a room's log, creating its epoch when it has none (so the epoch a joiner sees
 * in SERVER_HELLO is the one its first reliable message will carry).
 *
 * KEYS as {@link APPEND_LUA}. ARGV[1] = candidate epoch, ARGV[2] = idle expiry in ms.
 * Returns `{epoch, seq}` as strings.
 */
export const HEAD_LUA = `
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'seq', '0')
  redis.call('DEL', KEYS[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('HMGET', KEYS[1], 'epoch', 'seq')
`;

/**
 * Removes a dead node's members from one room, then the players of the clients left with no
 * member in the room, then the entities those clients owned.
 *
 * KEYS[1] = `{room}:members` (connection id → MemberInfo JSON), KEYS[2] = `{room}:players`,
 * KEYS[3] = `{room}:entities`, KEYS[4] = `{room}:owners` (entity id → owner client id).
 * ARGV[1] = the dead node's id.
 * Returns `{members JSON…}, {client ids…}, {entity ids…}`.
 */
export const REAP_ROOM_LUA = `
local all = redis.call('HGETALL', KEYS[1])
local dead, deadClients, live = {}, {}, {}
for i = 1, #all, 2 do
  local ok, m = pcall(cjson.decode, all[i + 1])
  if ok and type(m) == 'table' then
    if m.node_id == ARGV[1] then
      dead[#dead + 1] = all[i + 1]
      deadClients[#deadClients + 1] = m.client_id
      redis.call('HDEL', KEYS[1], all[i])
    elseif type(m.client_id) == 'string' then
      live[m.client_id] = true
    end
  end
end
local clients, gone, entities = {}, {}, {}
for _, c in ipairs(deadClients) do
  if type(c) == 'string' and not live[c] and not gone[c] then
    gone[c] = true
    clients[#clients + 1] = c
    redis.call('HDEL', KEYS[2], c)
  end
end
if #clients > 0 then
  local owners = redis.call('HGETALL', KEYS[4])
  for i = 1, #owners, 2 do
    if gone[owners[i + 1]] then
      entities[#entities + 1] = owners[i]
      redis.call('HDEL', KEYS[4], owners[i])
      redis.call('HDEL', KEYS[3], owners[i])
    end
  end
end
return {dead, clients, entities}
`;

/**
 * The live nodes' info.
 *
 * KEYS[1] = `{@nodes}:beats` (zset: node id by last heartbeat ms), KEYS[2] = `{@nodes}:info`
 * (hash: node id → NodeInfo JSON). ARGV[1] = cutoff (oldest live heartbeat, ms).
 * Returns the NodeInfo JSON of each live node.
 */
export const NODES_LUA = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
local out = {}
if #ids == 0 then return out end
local infos = redis.call('HMGET', KEYS[2], unpack(ids))
for i = 1, #ids do
  if infos[i] then out[#out + 1] = infos[i] end
end
return out
`;

/**
 * Records a heartbeat. KEYS as {@link NODES_LUA}; ARGV[1] = node id, ARGV[2] = now (ms),
 * ARGV[3] = NodeInfo JSON. Returns 1 when the node was not registered (first heartbeat, or
 * it was reaped, or Redis lost its data), else 0.
 */
export const HEARTBEAT_LUA = `
local added = redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return added
`;
