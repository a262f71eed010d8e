/**
 * Server counters kept as plain numbers (O(1) memory, no allocation on the hot path).
 * The [observability] work extends this with histograms and Prometheus output.
 * @module
 */

/** Live counters of one server instance. */
export class Metrics {
  readonly startedAt: number;
  connectionsTotal = 0;
  connectionsActive = 0;
  connectionErrors = 0;
  messagesReceived = 0;
  bytesReceived = 0;
  /** Frames handed to recipients (one broadcast to 99 peers counts 99). */
  messagesSent = 0;
  bytesSent = 0;
  /** Error frames sent, by error code. */
  readonly errorsByCode = new Map<string, number>();

  constructor(now: number) {
    this.startedAt = now;
  }

  /** Ping → pong round trip of one client, in ms. */
  recordRoundTrip(_ms: number): void {}

  countError(code: string): void {
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
  }

  /** The seed's human-readable report. */
  report(now: number, rooms: number): string {
    const uptime = Math.max(0, (now - this.startedAt) / 1000);
    return [
      "=== Performance Report ===",
      `Uptime: ${uptime.toFixed(1)}s`,
      `Connections: ${this.connectionsActive} active / ${this.connectionsTotal} total (${this.connectionErrors} errors)`,
      `Messages: ${this.messagesReceived} received / ${this.messagesSent} sent`,
      `Bytes: ${this.bytesReceived} received / ${this.bytesSent} sent`,
      `Rooms: ${rooms} active`,
    ].join("\n");
  }
}
