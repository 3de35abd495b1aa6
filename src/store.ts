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
  /** The store key, or what to derive it from: [base URL, API key]. */
  key: string | [string, string]
  timeout: number
  now: () => number
  emit: (type: SessionEvent['type']) => void
}

const VERSION = 1
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Token sharing through a store, loaded only by sessions that have one. Every store call is
 * bounded by the timeout, and a store that fails, hangs or holds garbage reads as empty.
 */
export function fleet({ store, key, timeout, now, emit }: FleetOptions) {
  let storeKey: Promise<string> | undefined

  async function op<T>(run: (key: string) => Promise<T>, fallback?: T): Promise<T | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      storeKey ??= typeof key === 'string' ? Promise.resolve(key) : hashKey(...key)
      const k = await storeKey
      return await Promise.race([run(k), new Promise<never>((_, reject) => (timer = setTimeout(reject, timeout)))])
    } catch {
      emit('store-error')
      return fallback
    } finally {
      clearTimeout(timer)
    }
  }

  /** The store's token if this version wrote it under this key, it is not due, and it is not `rejected`. */
  async function read(rejected?: string): Promise<Shared | undefined> {
    const found = await op(async (k) => {
      const value = await store.get(k)
      return value == null ? undefined : decode(k, value)
    })
    return found && found.token !== rejected && found.dueAt > now() ? found : undefined
  }

  return {
    /** The fleet's token, or undefined once this instance holds the lease (or waited long enough). */
    async take(rejected?: string): Promise<Shared | undefined> {
      let found = await read(rejected)
      for (let polls = 0; !found && store.claim && polls < timeout / 100; polls++) {
        if (await op((k) => store.claim!(`${k}:lease`, timeout), true)) return undefined
        await sleep(100 + Math.random() * 100)
        found = await read(rejected)
      }
      return found
    },
    /** Shares a fresh token until its due time. */
    put: (shared: Shared) => op((k) => store.set(k, JSON.stringify({ v: VERSION, key: k, ...shared }), shared.dueAt - now())),
  }
}

/** The default store key: a SHA-256 of base URL and API key, so the key itself is never stored. */
async function hashKey(base: string, apiKey: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${base}\n${apiKey}`))
  return `apivideo-auth:v${VERSION}:${Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** The shared token in `value` if this version wrote it under this key; throws on anything else. */
function decode(key: string, value: string): Shared {
  const { v, key: k, token, sentAt, expiresAt, dueAt } = JSON.parse(value)
  if (v !== VERSION || k !== key || typeof token !== 'string' || !token || ![sentAt, dueAt, expiresAt].every(Number.isFinite) || !(sentAt <= dueAt && dueAt <= expiresAt)) {
    throw new TypeError('foreign value')
  }
  return { token, sentAt, expiresAt, dueAt }
}
