import type { SessionEvent, TokenStore } from './types.js'

/** A token as instances share it: the access token and its times, never a refresh token. */
export interface Shared {
  token: string
  sentAt: number
  expiresAt: number
  dueAt: number
}

/** What the session lends the fleet: its clock, its events and its timeout. */
export interface FleetOptions {
  store: TokenStore
  /** The store key, or what to derive it from: [the /auth/api-key URL, the API key]. */
  key: string | [string, string]
  timeout: number
  now: () => number
  emit: (type: SessionEvent['type']) => void
}

const VERSION = 1
// Its own sleep: importing utils.ts here would split a shared chunk out of the main entry.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Token sharing through a store, loaded only by sessions that have one. Every store call is
 * bounded by the timeout; once one fails or hangs, the rest of that renewal goes on without the
 * store, and a value that is garbage, foreign or expired reads as empty. Each reports `store-error`.
 * @example
 * const { take, put } = fleet({ store, key: [base, apiKey], timeout: 10_000, now: Date.now, emit })
 * const found = await take()   // the fleet's token, or undefined: renew, then put() it
 */
export function fleet({ store, key, timeout, now, emit }: FleetOptions) {
  let named: Promise<string> | undefined
  let down = false

  async function op<T>(run: (key: string) => Promise<T>, fallback?: T): Promise<T | undefined> {
    if (down) return fallback
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      named ??= typeof key === 'string' ? Promise.resolve(key) : hashKey(...key)
      const k = await named
      return await Promise.race([run(k), new Promise<never>((_, reject) => (timer = setTimeout(reject, timeout)))])
    } catch {
      down = true
      emit('store-error')
      return fallback
    } finally {
      clearTimeout(timer)
    }
  }

  /** The store's token if usable (this version, this key, not due, not `rejected`), and a tag of what the store held. */
  async function read(rejected?: string): Promise<[Shared | undefined, string]> {
    const [k, value] = (await op(async (k) => [k, await store.get(k)] as const)) ?? []
    if (value == null) return [undefined, 'none']
    const at = now()
    const found = decode(k!, value, at)
    if (!found) emit('store-error')
    // A writer whose clock runs ahead must not make this one see a clock jump.
    const usable = found && found.token !== rejected && found.dueAt > at
    return [usable ? { ...found, sentAt: Math.min(found.sentAt, at) } : undefined, tag(String(value))]
  }

  return {
    /**
     * The fleet's token, or undefined once this instance holds the lease, waited 2 timeouts, or lost the store.
     * The lease is on the value being replaced, so a lease left by the last renewal never delays the next.
     */
    async take(rejected?: string): Promise<Shared | undefined> {
      down = false
      let [found, seen] = await read(rejected)
      for (let waited = 0; !found && !down && store.claim && waited < 2 * timeout; ) {
        if (await op((k) => store.claim!(`${k}:lease:${seen}`, Math.ceil(timeout)), true)) return undefined
        const pause = 100 + Math.random() * 100
        await sleep(pause)
        waited += pause
        ;[found, seen] = await read(rejected)
      }
      return found
    },
    /** Shares a fresh token until its due time, unless the store failed during this renewal. */
    async put({ token, sentAt, expiresAt, dueAt }: Shared): Promise<void> {
      const ttl = Math.ceil(dueAt - now())
      if (ttl > 0) await op((k) => store.set(k, JSON.stringify({ v: VERSION, key: k, token, sentAt, expiresAt, dueAt }), ttl))
      down = false
    },
  }
}

/** The default store key: a SHA-256 of base URL and API key, so the key itself is never stored. */
async function hashKey(base: string, apiKey: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${base}\n${apiKey}`))
  return `apivideo-auth:v${VERSION}:${Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** A short FNV-1a hash of a stored value, naming the lease to replace it. */
function tag(value: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}

/** The shared token in `value` if this version wrote it under this key, it is a header-safe string and it has not expired. */
function decode(key: string, value: unknown, at: number): Shared | undefined {
  try {
    const { v, key: k, token, sentAt, expiresAt, dueAt } = JSON.parse(value as string)
    const times = [sentAt, dueAt, expiresAt].every(Number.isFinite) && sentAt <= dueAt && dueAt <= expiresAt && expiresAt > at
    if (v === VERSION && k === key && typeof token === 'string' && /^[!-~]{1,8192}$/.test(token) && times) return { token, sentAt, expiresAt, dueAt }
  } catch {}
  return undefined
}
