/** Hashes `text` to 53 bits (not a cryptographic hash), for hash chains and content comparison. */
export function hash53(text: string, seed = 0): number {
  let low = (0x811c9dc5 ^ seed) >>> 0;
  let high = (0x6a09e667 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    low = Math.imul(low ^ code, 0x01000193);
    high = Math.imul(high ^ code, 0x5bd1e995);
  }
  low = finalize(low ^ (high >>> 7));
  high = finalize(high ^ low);
  return (high & 0x1f_ffff) * 0x1_0000_0000 + (low >>> 0);
}

function finalize(value: number): number {
  let z = value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
