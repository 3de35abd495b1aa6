import type { ShareContext, SharedToken, TokenShare } from './index.js'

/**
 * Somewhere instances share access tokens: Redis, Upstash, Cloudflare KV, Deno KV…
 * Values are short strings; `ttlMs` (a whole number, at least 1) is how long to keep them.
 */
export interface TokenStore {
  get(key: string): Promise<string | null | undefined>
  set(key: string, value: string, ttlMs: number): Promise<unknown>
  /** An atomic "set if absent" lease (Redis `SET NX PX`): true for the one instance that may renew. */
  claim?(key: string, ttlMs: number): Promise<boolean>
}

/** Options of `shareTokens`. */
export interface ShareOptions {
  /** A namespace for the store key, `apivideo-auth` by default; the rest of the key is derived from the API key. */
  key?: string | undefined
}

/** The longest delay `setTimeout` can hold; a store call is never bounded by more. */
const MAX_DELAY = 2_147_483_647
/** Part of every derivation label and of the data each value is bound to: a new format gets new keys. */
const FORMAT = 'apivideo-auth:v2'
const IV_BYTES = 12
/** A value's first 16 characters, its random IV in base64, name the lease to replace it. */
const IV_TAG = 16
/** How far ahead of a reader's clock a writer's may run (ms). */
const CLOCK_SKEW = 60_000

const encode = (value: string) => new TextEncoder().encode(value)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** A whole number of milliseconds from 1 to MAX_DELAY (NaN stays NaN, and is refused where it matters). */
const wholeMs = (ms: number) => Math.min(Math.max(Math.ceil(ms), 1), MAX_DELAY)

/**
 * Shares a session's access tokens with the other instances using the same API key, through `store`.
 * What it stores is AES-GCM ciphertext under a key derived from the API key and the base URL, at a key
 * derived from them too: whoever reads or writes the store without the API key learns nothing usable and
 * cannot plant a token. Every store call is bounded by the session's timeout; a store that fails or hangs
 * is skipped for the rest of that renewal, and a value that is garbage, foreign, tampered with or expired
 * reads as empty. Each reports `store-error`. Refresh tokens and the API key are never stored.
 * @example
 * import { createSession } from 'apivideo-auth'
 * import { shareTokens } from 'apivideo-auth/share'
 *
 * const store = {
 *   get: (key) => redis.get(key),
 *   set: (key, value, ttlMs) => redis.set(key, value, { expiration: { type: 'PX', value: ttlMs } }),
 *   claim: async (key, ttlMs) =>
 *     (await redis.set(key, '1', { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })) === 'OK',
 * }
 * const session = createSession({ apiKey: process.env.APIVIDEO_API_KEY, share: shareTokens(store) })
 */
export function shareTokens(store: TokenStore, options?: ShareOptions): (context: ShareContext) => TokenShare {
  if (typeof store?.get !== 'function' || typeof store.set !== 'function')
    throw new TypeError('store must have get and set methods')
  if (store.claim !== undefined && typeof store.claim !== 'function')
    throw new TypeError('store.claim must be a function')
  const given = options ?? {}
  if (typeof given !== 'object') throw new TypeError('options must be an object')
  const { key: namespace = 'apivideo-auth', ...unknown } = given
  const [extra] = Object.keys(unknown)
  if (extra !== undefined) throw new TypeError(`unknown option ${extra} of shareTokens`)
  if (typeof namespace !== 'string' || !namespace) throw new TypeError('key must be a non-empty string')

  return ({ apiKey, baseUrl, timeout, now, emit }) => {
    let keys: Promise<Keys> | undefined
    /** Whether the last take() lost the store, so that the renewal it started does not write to it. */
    let storeLost = false

    /**
     * One store call, bounded by `limit` (the timeout, or what is left of the claim wait). A failure, or a hang
     * past the timeout, marks the store `lost` for this renewal, with `store-error`; a call cut short only because
     * the claim wait is over ends that wait quietly. Either way the answer is `fallback`.
     */
    async function call<T>(
      renewal: Renewal,
      run: (keys: Keys) => Promise<T>,
      fallback: T,
      limit = timeout,
    ): Promise<T> {
      if (renewal.lost) return fallback
      let timer: ReturnType<typeof setTimeout> | undefined
      let cut = false
      try {
        keys ??= deriveKeys(apiKey, baseUrl, namespace)
        const derived = await keys
        const bound = new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(() => ((cut = limit < timeout), reject()), wholeMs(Math.min(limit, timeout)))),
        )
        return await Promise.race([run(derived), bound])
      } catch {
        if (!cut) {
          renewal.lost = true
          emit('store-error')
        }
        return fallback
      } finally {
        clearTimeout(timer)
      }
    }

    /**
     * The store's token if usable (this key, not due, not `rejected`), and the tag of the value read (empty for
     * none). A value that does not open is one `store-error` however often one renewal reads it.
     */
    async function read(
      renewal: Renewal,
      rejected: string | undefined,
      limit?: number,
    ): Promise<[SharedToken | undefined, string]> {
      const stored = await call(renewal, (derived) => store.get(derived.key), undefined, limit)
      if (stored == null) return [undefined, '']
      const value = String(stored)
      const at = now()
      // The call succeeded, so the keys are derived.
      const shared = await open(await keys!, value, at)
      if (!shared && renewal.refused !== value) {
        renewal.refused = value
        emit('store-error')
      }
      // Times are on the writer's clock. One that runs over a minute ahead of this one (set wrong, or stepped) would
      // have this session serve the token past its expiry: its values are not used. A writer a little ahead must not
      // make this session see a clock jump.
      const usable = shared && shared.token !== rejected && shared.dueAt > at && shared.sentAt - at < CLOCK_SKEW
      return [usable ? { ...shared, sentAt: Math.min(shared.sentAt, at) } : undefined, value.slice(0, IV_TAG)]
    }

    return {
      /**
       * The fleet's token, or undefined once this session holds the lease, has waited 2 timeouts in all (store
       * calls included), or lost the store. The lease is on the value being replaced, so a lease left by the
       * last renewal never delays the next.
       */
      async take(rejected) {
        const renewal: Renewal = { lost: false }
        try {
          const budget = 2 * timeout
          let spent = 0
          /** Runs a store call and counts its time on the session's clock. */
          const timed = async <T>(step: () => Promise<T>): Promise<T> => {
            const at = now()
            try {
              return await step()
            } finally {
              // A clock that went back counts as no time spent, never as time won back.
              spent += Math.max(0, now() - at)
            }
          }
          let found: SharedToken | undefined
          let seen = ''
          while (spent < budget) {
            ;[found, seen] = await timed(() => read(renewal, rejected, budget - spent))
            if (found || renewal.lost || !store.claim || !(spent < budget)) break
            const lease = wholeMs(timeout)
            if (
              await timed(() =>
                call(renewal, (derived) => store.claim!(`${derived.key}:lease:${seen}`, lease), true, budget - spent),
              )
            )
              return undefined
            const pause = Math.min(100 + Math.random() * 100, budget - spent)
            await sleep(pause)
            spent += pause
          }
          return found
        } catch {
          renewal.lost = true
          emit('store-error')
          return undefined
        } finally {
          storeLost = renewal.lost
        }
      },

      /**
       * Shares a fresh token until it expires, unless it is already due or the store was lost by the take() of
       * this renewal. Kept past its due time, the value being replaced is what every instance reads at renewal
       * time, so all of them claim the one lease named after it.
       */
      async put(shared, renewal) {
        if (renewal?.afterTake && storeLost) return
        try {
          const at = now()
          if (!usableToken(shared, at) || !(shared.dueAt - at >= 1)) return
          const { token, sentAt, expiresAt, dueAt } = shared
          await call(
            { lost: false },
            async (derived) =>
              store.set(
                derived.key,
                await seal(derived, { token, sentAt, expiresAt, dueAt }),
                wholeMs(expiresAt - at),
              ),
            undefined,
          )
        } catch {
          emit('store-error')
        }
      },
    }
  }
}

/** What one renewal's store calls know: whether the store was lost, and the last value that did not open. */
interface Renewal {
  lost: boolean
  refused?: string
}

interface Keys {
  /** The store key: the namespace and 32 bytes derived from the API key and the base URL, in hex. */
  key: string
  /** The AES-GCM key of the values. */
  cipher: CryptoKey
  /** The data each value is bound to: the format and the store key. */
  bound: Uint8Array<ArrayBuffer>
}

/**
 * Keys derived with HKDF-SHA-256 from the API key, salted with the base URL: the store key's name (HKDF's
 * expand step is an HMAC-SHA-256 keyed by a key derived from the API key) and the AES-GCM key of the values.
 */
async function deriveKeys(apiKey: string, baseUrl: string, namespace: string): Promise<Keys> {
  const secret = await crypto.subtle.importKey('raw', encode(apiKey), 'HKDF', false, ['deriveKey', 'deriveBits'])
  const hkdf = (purpose: string) => ({
    name: 'HKDF',
    hash: 'SHA-256',
    salt: encode(baseUrl),
    info: encode(`${FORMAT}:${purpose}`),
  })
  const name = new Uint8Array(await crypto.subtle.deriveBits(hkdf('store key'), secret, 256))
  const cipher = await crypto.subtle.deriveKey(hkdf('value'), secret, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ])
  const key = `${namespace}:${Array.from(name, (b) => b.toString(16).padStart(2, '0')).join('')}`
  return { key, cipher, bound: encode(`${FORMAT}\n${key}`) }
}

/** The token and its times as base64 text: a random IV, then the AES-GCM ciphertext of their JSON. */
async function seal({ cipher, bound }: Keys, shared: SharedToken): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: bound },
      cipher,
      encode(JSON.stringify(shared)),
    ),
  )
  return btoa(String.fromCharCode(...iv, ...sealed))
}

/** The shared token in `value` if it decrypts under this key and store key, and is a usable, unexpired token. */
async function open({ cipher, bound }: Keys, value: string, at: number): Promise<SharedToken | undefined> {
  try {
    const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0))
    const iv = bytes.subarray(0, IV_BYTES)
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: bound },
      cipher,
      bytes.subarray(IV_BYTES),
    )
    const shared: SharedToken = JSON.parse(new TextDecoder().decode(plain))
    return usableToken(shared, at) ? shared : undefined
  } catch {
    return undefined
  }
}

/** A header-safe token whose times are numbers in order and that has not expired at `at`. */
function usableToken(shared: SharedToken | undefined, at: number): shared is SharedToken {
  if (typeof shared?.token !== 'string' || !/^[!-~]{1,8192}$/.test(shared.token)) return false
  const { sentAt, dueAt, expiresAt } = shared
  return [sentAt, dueAt, expiresAt].every(Number.isFinite) && sentAt <= dueAt && dueAt <= expiresAt && expiresAt > at
}
