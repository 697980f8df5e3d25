declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot of a key (CRC16 of its hash tag, or of the whole key when it has none). */
  export default function calculateSlot(key: string): number;
}
