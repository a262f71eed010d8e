/**
 * The Lua scripts of the Redis backend's room log and world (claims and nodes: redis-scripts-claims.ts). Each touches the keys of ONE hash tag (one room, or the
 * node registry), so every script runs on Redis Cluster too. Lua numbers are doubles: the
 * scripts use arithmetic, never bit operations, on sequence numbers (exact up to 2^53), and
 * format them with `%.0f` (Lua's `tostring` switches to exponent notation above 1e14).
 * Holder records are the JSON of `shared.ts` (`{"u","t","n","c","d"}`).
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
 * Appends reliable frames to a room's log with the room change that goes with them, and
 * publishes them, atomically (see `RoomLog.append` and `RoomChange`).
 *
 * KEYS: 1 `log` (hash: epoch, seq), 2 `hist` (stream), 3 `players`, 4 `entities`, 5 `owners`,
 * 6 `holders`, 7 `sessions`.
 * ARGV: 1 the bus channel, 2 the publisher's node envelope header, 3 a random non-zero uint32
 * used as the epoch if the room's log has none, 4 history size (`XADD MAXLEN ~`), 5 idle expiry
 * of the log in ms, 6 `PUBLISH` or `SPUBLISH`, 7 guard client id (`""`: no guard), 8 guard
 * token, 9 `"1"` when the hold must be detached with its window closed by ARGV[15], `"2"` for a
 * superseded session (`RoomChange.guard.superseded`: its entry in the holder's `p` is consumed,
 * the entities it lists that the client still owns are dropped, nothing else happens and
 * `{"0", "0", dropped ids…}` is returned) else `"0"`, followed by the connection that must hold
 * it (or nothing), 10 `"1"` to release the hold,
 * `"2"` to reset it (player and entities dropped, hold kept) else `"0"`, followed by `J` / `L` when the frames announce the guard's client joining /
 * leaving (appended only if its stored player is absent / present; `RoomChange.presence`),
 * 11 presence expiry in ms, 12 number of players P, 13 number of entities E, 14 number of
 * despawns D, 15 now (ms, the caller's clock), 16 the user the hold must be (`""`: any, `"-"`:
 * anonymous, else `"="` followed by the user), then P × (client id, snapshot),
 * E × (entity id, owner, snapshot), D × entity id, and the frames.
 *
 * Returns `{"guard"}` when the guard does not hold (nothing changed), else
 * `{epoch, first seq, orphan entity ids…}` (each frame got the next seq, in order; first seq
 * `0` when no frame was appended).
 */
export const APPEND_LUA = `${VARINT}
local g = ARGV[7]
if g ~= '' then
  local hj = redis.call('HGET', KEYS[6], g)
  if not hj then return {'guard'} end
  local h = cjson.decode(hj)
  local flag, conn = string.sub(ARGV[9], 1, 1), string.sub(ARGV[9], 2)
  if ARGV[16] == '-' and h.u ~= cjson.null then return {'guard'} end
  if string.sub(ARGV[16], 1, 1) == '=' and h.u ~= string.sub(ARGV[16], 2) then return {'guard'} end
  if flag == '2' then
    local found = nil
    if type(h.p) == 'table' then
      for i, s in ipairs(h.p) do
        if not found and s.t == ARGV[8] then found = i end
      end
    end
    if not found then return {'guard'} end
    local s = table.remove(h.p, found)
    if #h.p == 0 then h.p = nil end
    redis.call('HSET', KEYS[6], g, cjson.encode(h))
    local res = {'0', '0'}
    for _, id in ipairs(s.e) do
      if redis.call('HGET', KEYS[5], id) == g then
        redis.call('HDEL', KEYS[5], id)
        redis.call('HDEL', KEYS[4], id)
        res[#res + 1] = id
      end
    end
    return res
  end
  if h.t ~= ARGV[8] then return {'guard'} end
  if flag == '1' and (h.d == nil or h.d > tonumber(ARGV[15])) then return {'guard'} end
  if conn ~= '' and h.c ~= conn then return {'guard'} end
end
local np, ne, nd = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local at = 17
local players, entities, despawn = {}, {}, {}
for i = 1, np do players[i] = {ARGV[at], ARGV[at + 1]}; at = at + 2 end
for i = 1, ne do entities[i] = {ARGV[at], ARGV[at + 1], ARGV[at + 2]}; at = at + 3 end
for i = 1, nd do despawn[i] = ARGV[at]; at = at + 1 end
local orphans = {}
local release, presence = string.sub(ARGV[10], 1, 1), string.sub(ARGV[10], 2)
local announce = true
if presence ~= '' then
  local had = redis.call('HEXISTS', KEYS[3], g) == 1
  announce = had == (presence == 'L')
end
if g ~= '' and (release == '1' or release == '2') then
  if release == '1' then
    redis.call('HDEL', KEYS[6], g)
    if redis.call('HGET', KEYS[7], ARGV[8]) == g then redis.call('HDEL', KEYS[7], ARGV[8]) end
  end
  redis.call('HDEL', KEYS[3], g)
  local named = {}
  for _, id in ipairs(despawn) do named[id] = true end
  local owners = redis.call('HGETALL', KEYS[5])
  for i = 1, #owners, 2 do
    if owners[i + 1] == g then
      redis.call('HDEL', KEYS[5], owners[i])
      redis.call('HDEL', KEYS[4], owners[i])
      if not named[owners[i]] then orphans[#orphans + 1] = owners[i] end
    end
  end
end
for _, p in ipairs(players) do redis.call('HSET', KEYS[3], p[1], p[2]) end
for _, e in ipairs(entities) do
  redis.call('HSET', KEYS[4], e[1], e[3])
  redis.call('HSET', KEYS[5], e[1], e[2])
end
for _, id in ipairs(despawn) do
  redis.call('HDEL', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
end
if np + ne > 0 then
  for k = 3, 5 do redis.call('PEXPIRE', KEYS[k], ARGV[11]) end
end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[3]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', '0')
end
local first = nil
local last = #ARGV
if not announce then last = at - 1 end
for i = at, last do
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  first = first or seq
  local seqs = string.format('%.0f', seq)
  local entry = ARGV[i] .. '\\32' .. varint(seq) .. '\\40' .. varint(tonumber(epoch))
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], seqs .. '-0', 'f', entry)
  redis.call(ARGV[6], ARGV[1], ARGV[2] .. entry)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local res = {epoch, string.format('%.0f', first or 0)}
for _, id in ipairs(orphans) do res[#res + 1] = id end
return res
`;

/**
 * Reads a room's history after a sequence number.
 *
 * KEYS: 1 `log`, 2 `hist`. ARGV[1] = epoch, ARGV[2] = afterSeq, ARGV[3] = limit (≥ 1).
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

/** Lua that makes the room log's epoch when it has none (KEYS[1] `log`, KEYS[2] `hist`, ARGV[1] epoch, ARGV[2] expiry). */
const ENSURE_EPOCH = `
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'seq', '0')
  redis.call('DEL', KEYS[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
`;

/**
 * The head of a room's log, making its epoch when it has none (so the epoch a joiner sees is
 * the one its first reliable message will carry). KEYS: 1 `log`, 2 `hist`.
 * ARGV[1] = candidate epoch, ARGV[2] = idle expiry in ms. Returns `{epoch, seq}`.
 */
export const HEAD_LUA = `${ENSURE_EPOCH}
return redis.call('HMGET', KEYS[1], 'epoch', 'seq')
`;

/**
 * Starts a new epoch when the log is still at ARGV[1]: epoch = ARGV[2], seq 0, history gone.
 * KEYS: 1 `log`, 2 `hist`. ARGV[3] = idle expiry in ms. Returns the epoch after it.
 */
export const REBASE_LUA = `
local cur = redis.call('HGET', KEYS[1], 'epoch')
if cur and cur ~= ARGV[1] then return cur end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'seq', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return ARGV[2]
`;

/**
 * A room's shared state and the log position it reflects, read atomically.
 * KEYS: 1 `log`, 2 `hist`, 3 `players`, 4 `entities`, 5 `holders`. ARGV as {@link HEAD_LUA}.
 * Returns `{{epoch, seq}, players…, entities…, holders (id, json)…}` as four nested lists.
 */
export const LOAD_LUA = `${ENSURE_EPOCH}
return {redis.call('HMGET', KEYS[1], 'epoch', 'seq'), redis.call('HVALS', KEYS[3]), redis.call('HVALS', KEYS[4]), redis.call('HGETALL', KEYS[5])}
`;

/** Replaces one field of a hash only if it exists (a pose never resurrects a player). KEYS[1] hash; ARGV field, value. */
export const SET_IF_EXISTS_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
`;
