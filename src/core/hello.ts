/** The SERVER_HELLO frames a client receives on connect. @module */
import { encodeBinary } from "../protocol/proto.ts";
import { objectOut } from "../protocol/json.ts";
import { root } from "../protocol/proto.ts";
import { MessageType } from "../protocol/types.ts";
import { xrWorldState } from "../protocol/xr.ts";
import { SERVER_VERSION } from "../version.ts";
import type { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";
import type { Frame } from "./transport.ts";
import { hostOf } from "./host.ts";
import { selfJoinFrame } from "./xr-format.ts";

const WorldStateProto = root.lookupType("graphwiz.core.WorldState");

/**
 * The JSON SERVER_HELLO text frame (always first, for every client), then for protobuf clients
 * the same hello as a binary `Message{server_hello}`, for xr clients a PRESENCE_JOIN about
 * themselves with the host (see xr-format.ts). Both hellos carry the room's world state.
 */
export function helloFrames(hub: Hub, conn: Connection, resumed = false): Frame[] {
  const state = conn.room.world.snapshot();
  // Reliable clients learn their session and where the room's sequence stands.
  const session = conn.session
    ? { session_id: conn.session.id, resumed, epoch: conn.room.epoch, last_seq: conn.room.seq }
    : {};
  const host = hostOf(conn.room.world); // compat (issue 15): the room's host, in every format
  const json = JSON.stringify({
    type: "SERVER_HELLO",
    room_id: conn.room.id,
    client_id: conn.clientId,
    timestamp: Math.floor(conn.connectedAt / 1000),
    connection_id: conn.id,
    server_version: SERVER_VERSION,
    user_id: conn.userId,
    format: conn.format,
    host_client_id: host,
    // compat (issue 15): GraphWiz-XR's client reads initial_state in camelCase.
    initial_state: conn.format === "xr" ? xrWorldState(state) : objectOut(WorldStateProto, state as Record<string, unknown>),
    ...session,
  });
  if (conn.format === "xr") return [json, selfJoinFrame(hub, conn)];
  if (conn.format !== "protobuf") return [json];
  const binary = encodeBinary({
    message_id: hub.nextMessageId(),
    timestamp: conn.connectedAt,
    type: MessageType.SERVER_HELLO,
    payload: "server_hello",
    server_hello: {
      server_version: SERVER_VERSION,
      assigned_client_id: conn.clientId,
      room_id: conn.room.id,
      initial_state: state,
      connection_id: conn.id,
      user_id: conn.userId ?? "",
      host_client_id: host,
      ...session,
    },
  });
  return [json, binary];
}
