// Binary blobs of the API (contracts.md): uint32 header length, JSON header, 8-byte aligned arrays.
const TYPES = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
};

export function parseBlob(buffer) {
  const view = new DataView(buffer);
  const n = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  const arrays = {};
  for (const spec of header.arrays || []) {
    const Type = TYPES[spec.dtype];
    if (!Type) throw new Error(`unknown dtype ${spec.dtype} for ${spec.name}`);
    arrays[spec.name] = new Type(buffer, spec.offset, spec.length);
  }
  return { header, arrays };
}

// Days since 1970-01-01 of an ISO date (UTC), and back.
export function dayOf(iso) {
  return Math.floor(Date.parse(iso.slice(0, 10) + "T00:00:00Z") / 86400000);
}
export function isoOf(day) {
  return new Date(Math.floor(day) * 86400000).toISOString().slice(0, 10);
}
