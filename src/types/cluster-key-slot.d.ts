/** Types of `cluster-key-slot` (ioredis' own slot function; the package ships none). */
declare module "cluster-key-slot" {
  /** The Redis Cluster slot of `key`: CRC16 of its hash tag (or of all of it) mod 16384. */
  export default function calculateSlot(key: string | Buffer): number;
}
