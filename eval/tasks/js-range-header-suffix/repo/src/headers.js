/**
 * The Content-Range header of a 206 response carrying `range` of a `size`-byte resource.
 * @param {number} size
 * @param {{ start: number, end: number }} range
 */
export function contentRange(size, range) {
  return `bytes ${range.start}-${range.end}/${size}`;
}
