/**
 * Weighted sampling in constant time, for the `weighted` rotation strategy.
 * @module
 */

/**
 * Walker's alias tables for sampling indexes in proportion to weights in constant time.
 * @param weights Non-negative weights (all zero: uniform).
 */
export function aliasTable(weights: number[]): { prob: Float64Array; alias: Int32Array } {
  const n = weights.length;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const total = weights.reduce((a, b) => a + b, 0);
  const scaled = weights.map((w) => total > 0 ? (w * n) / total : 1);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((w, i) => (w < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    (scaled[l]! < 1 ? small : large).push(l);
  }
  for (const i of [...small, ...large]) {
    prob[i] = 1;
    alias[i] = i;
  }
  return { prob, alias };
}
