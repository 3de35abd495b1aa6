// Ids, secrets and dates as api.video writes them, and the caps that keep the stand-in's memory bounded.
import { hex } from '../internal/bytes.js'

/** 32 random hex digits: the stand-in's tokens and secrets. */
export const nonce = (): string => hex(crypto.getRandomValues(new Uint8Array(16)))

/** An id as api.video's look: a two-letter prefix and 22 letters and digits. */
export function id(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  // 248 is the largest multiple of 62 below 256: bytes above it are skipped, so every character is equally likely.
  const bytes = Array.from(crypto.getRandomValues(new Uint8Array(64))).filter((b) => b < 248)
  return (
    prefix +
    bytes
      .slice(0, 22)
      .map((b) => alphabet[b % 62])
      .join('')
  )
}

/** ATOM UTC, as api.video writes dates: `2026-01-05T08:00:00+00:00`. */
export const atom = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00')

/** Drops the oldest entries (maps and sets iterate in insertion order) until at most `max` are left. */
export function keepNewest(entries: Map<string, unknown> | Set<string>, max: number): void {
  for (const key of entries.keys()) {
    if (entries.size <= max) return
    entries.delete(key)
  }
}
