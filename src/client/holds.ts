/**
 * Who holds which object (OBJECT_GRAB / OBJECT_RELEASE), as the server keeps it: one holder per
 * object until it releases it or leaves. Object ids are whatever the clients agree on (spawned
 * entities or scene objects), so holds are kept apart from `entities`.
 * @module
 */
import type { Envelope, ObjectRelease, Vector3 } from "../protocol/types.ts";
import { same, set, vec, type ChangeSource, type Hold } from "./shapes.ts";

/** A `hold` event: an object was grabbed (or grabbed again by its holder, to move it) or released. */
export interface HoldChange {
  kind: "grab" | "release";
  /** The object. */
  entity_id: string;
  /** Its holder (for `release`: who held it). */
  client_id: string;
  /** The hold after a grab; for `release`, as it was. */
  hold: Hold;
  /** `release`: where it was let go, and its velocity (a throw), when given. */
  position?: Vector3;
  velocity?: Vector3;
  /** True when the holder is this client. */
  self: boolean;
  source: ChangeSource;
}

/** The holds of one room, announcing every change. */
export class Holds {
  /** Object id → its hold. */
  readonly map = new Map<string, Hold>();
  constructor(
    readonly self: () => string | undefined,
    readonly emit: (ev: HoldChange, msg?: Envelope) => void,
  ) {}

  /** A snapshot's holds: the differences are announced (`source: "snapshot"`). */
  reset(next: Map<string, Hold>): void {
    for (const id of [...this.map.keys()]) if (!next.has(id)) this.release(id, "snapshot");
    for (const [id, h] of next) if (!same(this.map.get(id), h)) this.grab(h, "snapshot");
  }

  /** `h.client_id` holds `h.entity_id` now (whoever held it before). */
  grab(h: Hold, source: ChangeSource, msg?: Envelope): void {
    this.map.set(h.entity_id, h);
    this.emit({ kind: "grab", entity_id: h.entity_id, client_id: h.client_id, hold: h, self: h.client_id === this.self(), source }, msg);
  }

  /** The object is free now; `r` is the release message, if one said so. */
  release(id: string, source: ChangeSource, msg?: Envelope, r?: ObjectRelease): void {
    const h = this.map.get(id);
    if (!h) return;
    this.map.delete(id);
    const ev: HoldChange = { kind: "release", entity_id: id, client_id: h.client_id, hold: h, self: h.client_id === this.self(), source };
    if (r && set(r.position)) ev.position = vec(r.position!);
    if (r && set(r.velocity)) ev.velocity = vec(r.velocity!);
    this.emit(ev, msg);
  }

  /** Everything `clientId` held is free (it left). */
  releaseAll(clientId: string, msg?: Envelope): void {
    for (const [id, h] of [...this.map]) if (h.client_id === clientId) this.release(id, "server", msg);
  }

  /** Applies an own grab; returns its undo step, or undefined when another client holds the object (the server decides). */
  grabLocal(h: Hold): (() => void) | undefined {
    const before = this.map.get(h.entity_id);
    if (before && before.client_id !== h.client_id) return undefined;
    this.grab(h, "local");
    return () => {
      if (this.map.get(h.entity_id) !== h) return; // the server said something since
      if (before) this.grab(before, "revert");
      else this.release(h.entity_id, "revert");
    };
  }

  /** Applies an own release of an object this client holds; returns its undo step. */
  releaseLocal(id: string, me: string, r: ObjectRelease): (() => void) | undefined {
    const h = this.map.get(id);
    if (!h || h.client_id !== me) return undefined;
    this.release(id, "local", undefined, r);
    return () => !this.map.has(id) && this.grab(h, "revert");
  }
}
