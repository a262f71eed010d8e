/**
 * Validation of what a client puts in the upgrade URL. Each function returns an error message
 * naming the field, or `null` when the value is acceptable.
 * @module
 */

const ROOM_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const DOTS_ONLY = /^\.+$/;
// Printable ASCII without space: 0x21–0x7E.
const ID = /^[\x21-\x7e]{1,128}$/;

/** `room_id`: 1–128 of `[A-Za-z0-9._:-]`, not dots only. */
export function checkRoomId(room: string): string | null {
  if (!ROOM_ID.test(room) || DOTS_ONLY.test(room)) {
    return "room_id must be 1-128 characters of A-Z a-z 0-9 . _ : - and not only dots";
  }
  return null;
}

/** `user_id` / `client_id`: ≤ 128 printable ASCII characters without spaces (absent is fine). */
export function checkId(field: "user_id" | "client_id", value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!ID.test(value)) return `${field} must be 1-128 printable ASCII characters without spaces`;
  return null;
}
