const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes for people, in powers of 1024: 0 → "0 B", 1536 → "1.50 KiB", 85_000_000 → "81.1 MiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${value} B`;
  return `${value.toFixed(Math.abs(value) < 10 ? 2 : 1)} ${UNITS[unit]}`;
}
