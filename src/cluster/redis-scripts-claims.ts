/**
 * The Lua scripts of the Redis backend's client claims and node registry (the room log's and
 * world's are in redis-scripts.ts). Each touches the keys of ONE hash tag, so every script runs
 * on Redis Cluster too. Holder records are the JSON of `shared.ts` (`{"u","t","n","c","d"}`),
 * plus `p` (the sessions a takeover replaced, see {@link CLAIM_LUA}) which only the scripts read.
 * @module
 */

/**
 * Claims a client id (see `ClientClaims.claim`; decided as `mayTake` in memory-world.ts).
 * KEYS: 1 `holders`, 2 `sessions`, 3 `owners`. ARGV: 1 client id, 2 the new holder JSON, 3 its
 * token, 4 its user (`""` when anonymous), 5 session id or `""`, 6 presence expiry ms, 7 its
 * connection id. A takeover by another connection stores in the new holder's `p` the replaced
 * token with the entities the client owns now (`{t, e}`), before the replaced holder's own `p`
 * (at most 4; `supersede` in memory-world.ts). Returns `{"ok"}`, `{"ok", previous JSON}` or
 * `{"no", current JSON}`.
 */
export const CLAIM_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local prev = nil
local kept = nil
if cur then
  local h = cjson.decode(cur)
  local user = h.u
  if user == cjson.null then user = '' end
  kept = h.p
  if h.t == ARGV[3] then
    if user ~= ARGV[4] then return {'no', cur} end
    if h.d == nil then prev = cur end
  else
    local sameUser = user ~= '' and user == ARGV[4]
    local sameConn = h.c ~= nil and h.c == ARGV[7]
    if not sameUser and not sameConn then return {'no', cur} end
    if redis.call('HGET', KEYS[2], h.t) == ARGV[1] then redis.call('HDEL', KEYS[2], h.t) end
    prev = cur
    if not sameConn then
      local owned = {}
      local all = redis.call('HGETALL', KEYS[3])
      for i = 1, #all, 2 do
        if all[i + 1] == ARGV[1] then owned[#owned + 1] = all[i] end
      end
      local list = {}
      if #owned > 0 then list[1] = {t = h.t, e = owned} end
      if type(h.p) == 'table' then
        for _, s in ipairs(h.p) do
          if #list < 4 then list[#list + 1] = s end
        end
      end
      kept = list
    end
  end
end
local json = ARGV[2]
if type(kept) == 'table' and #kept > 0 then
  local n = cjson.decode(json)
  n.p = kept
  json = cjson.encode(n)
end
redis.call('HSET', KEYS[1], ARGV[1], json)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], ARGV[5], ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
if prev then return {'ok', prev} end
return {'ok'}
`;

/**
 * Marks a hold detached (only if the token still holds it through that connection).
 * KEYS[1] `holders`. ARGV: client id, token, connection id, until (ms). Returns `{"ok"}` when
 * detached; `{"detached", until}` when that token's hold is detached already (with its own
 * window); else `{"no"}`.
 */
export const DETACH_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'no'} end
local h = cjson.decode(cur)
if h.t ~= ARGV[2] then return {'no'} end
if h.c == nil and h.d ~= nil then return {'detached', string.format('%.0f', h.d)} end
if h.c ~= ARGV[3] then return {'no'} end
h.c = nil
h.d = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(h))
return {'ok'}
`;

/**
 * Moves (ARGV[3] = new score) or removes (ARGV[3] = `""`) one due-hold entry, only if its
 * score is still ARGV[2] (a detach that rescheduled it meanwhile wins).
 * KEYS[1] `{@due}:holds`. ARGV[1] = the entry. Returns 1 when changed.
 */
export const DUE_FIX_LUA = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
`;

/**
 * What a dead node left in one room: its members are removed; each hold it had attached is
 * detached until ARGV[2] when it is a session (its client may resume elsewhere), or reported
 * as departed when the hold was the connection itself.
 * KEYS: 1 `members`, 2 `holders`, 3 `sessions`. ARGV: 1 dead node id, 2 detached-until (ms).
 * Returns `{members JSON…}, {client id, token, …}` (departed), `{client id, token, …}` (detached).
 */
export const REAP_ROOM_LUA = `
local members, departed, detached = {}, {}, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, m = pcall(cjson.decode, all[i + 1])
  if ok and type(m) == 'table' and m.node_id == ARGV[1] then
    members[#members + 1] = all[i + 1]
    redis.call('HDEL', KEYS[1], all[i])
  end
end
local holds = redis.call('HGETALL', KEYS[2])
for i = 1, #holds, 2 do
  local ok, h = pcall(cjson.decode, holds[i + 1])
  if ok and type(h) == 'table' and h.n == ARGV[1] and h.d == nil then
    if redis.call('HGET', KEYS[3], h.t) == holds[i] then
      h.c = nil
      h.d = tonumber(ARGV[2])
      redis.call('HSET', KEYS[2], holds[i], cjson.encode(h))
      detached[#detached + 1] = holds[i]
      detached[#detached + 1] = h.t
    else
      departed[#departed + 1] = holds[i]
      departed[#departed + 1] = h.t
    end
  end
end
return {members, departed, detached}
`;

/**
 * The live nodes' info. KEYS: 1 `{@nodes}:beats` (zset: node id by last heartbeat ms),
 * 2 `{@nodes}:info` (hash: node id → NodeInfo JSON). ARGV[1] = cutoff (oldest live heartbeat).
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
 * Records a heartbeat. KEYS as {@link NODES_LUA}; ARGV[1] = node id, ARGV[2] = now (ms, the
 * backend's clock), ARGV[3] = NodeInfo JSON. Returns 1 when the node was not registered (first
 * heartbeat, or it was reaped, or Redis lost its data), else 0.
 */
export const HEARTBEAT_LUA = `
local added = redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return added
`;
