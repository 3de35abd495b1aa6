import type { CachedToken, FleetWindow, RateLimitKind, ShareCall, ShareContext, TokenShare } from './index.js'
import { encode, hex } from './internal/bytes.js'
import { badArgument } from './internal/errors.js'
import { type Known, checkOptions } from './internal/options.js'

/**
 * Somewhere instances share access tokens: Redis, Upstash, Cloudflare KV, Deno KV…
 * Values are short strings; `ttlMs` (a whole number, at least 1) is how long to keep them.
 */
export interface TokenStore {
  get(key: string): Promise<string | null | undefined>
  set(key: string, value: string, ttlMs: number): Promise<unknown>
  /** An atomic "set if absent" lease (Redis `SET NX PX`): true for the one instance that may renew. */
  claim?(key: string, ttlMs: number): Promise<boolean>
  /**
   * An atomic counter for the fleet's rate-limit budget: adds 1 to the number at `key` and answers the new count.
   * An absent key starts at 0 and is kept `ttlMs` (a whole number, at least 1) from that first increment; later
   * increments do not extend it. With it, instances on one key share api.video's per-minute budget.
   */
  increment?(key: string, ttlMs: number): Promise<number>
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
/**
 * The longest value read (characters). A real one is under 11 KiB (a token of at most 8,192 characters, its times,
 * base64); anything longer is refused before it is decoded, so whoever can write the store cannot stall a reader.
 */
const VALUE_LIMIT = 16 * 1024
const SHARE_OPTIONS: Known<ShareOptions> = { key: true }
/** How many windows past its end the fleet's window is kept: a fleet counts that many after its budget ran short. */
const WINDOWS_KEPT = 3

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** A whole number of milliseconds from 1 to MAX_DELAY (NaN stays NaN, and is refused where it matters). */
const wholeMs = (ms: number) => Math.min(Math.max(Math.ceil(ms), 1), MAX_DELAY)

/** `work`, or a rejection with `hung` once `ms` have passed; no timer is left behind either way. */
async function within<T>(work: Promise<T>, ms: number, hung: Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(hung), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * What a store failure event says of it: the error's name and message, one short line. A store may reject with
 * anything (an object without a prototype, a getter that throws): what cannot be read is said so, never thrown.
 */
function describe(error: unknown, apiKey: string): { name: string; message: string } {
  const line = (text: unknown, max: number) =>
    // Every occurrence of the key is replaced before the cut: a cut first would leave part of one at the end.
    String(text)
      .replaceAll(apiKey, '[redacted]')
      .slice(0, max)
      .replace(/[\0-\x1f\x7f-\x9f]/g, ' ')
  try {
    const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown }
    return typeof message === 'string'
      ? { name: line(name, 60), message: line(message, 200) }
      : { name: typeof error, message: line(error, 200) }
  } catch {
    return { name: typeof error, message: 'unreadable' }
  }
}

/** What one renewal's store calls know: whether the store was lost, and the last value that did not open. */
interface Renewal {
  lost: boolean
  refused?: string
}

/**
 * Shares a session's access tokens with the other instances using the same API key, through `store`.
 * What it stores is AES-GCM ciphertext under a key derived from the API key and the base URL, at a key
 * derived from them too: whoever reads or writes the store without the API key learns nothing usable and
 * cannot plant a token. Every store call is bounded by the session's timeout; a store that fails or hangs
 * is skipped for the rest of that renewal's wait, and a value that is garbage, foreign, tampered with, too long or
 * expired reads as empty. Each reports `share-failed`, naming the call and the error. The token a renewal gets is
 * written in the background (`session.settled()` waits for it). Refresh tokens and the API key are never stored.
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
    badArgument('store must have get and set methods')
  if (store.claim !== undefined && typeof store.claim !== 'function') badArgument('store.claim must be a function')
  if (store.increment !== undefined && typeof store.increment !== 'function')
    badArgument('store.increment must be a function')
  const { key: namespace = 'apivideo-auth' } = checkOptions(options ?? {}, SHARE_OPTIONS)
  if (typeof namespace !== 'string' || !namespace) badArgument('key must be a non-empty string')

  return (context) => createShareHook(store, namespace, context)
}

/** What a session's store calls report a failure with: `share-failed`, naming the call. */
type Report = (call: ShareCall, error: unknown) => void
/** One store call of a session, bounded in time (createShareHook's `call`). */
type StoreCall = <T>(
  renewal: Renewal,
  name: ShareCall,
  run: (keys: Keys) => Promise<T>,
  fallback: T,
  limit?: number,
) => Promise<T>
/** A read of the store's token (createShareHook's `read`): the token if usable, and the tag of the value read. */
type StoreRead = (
  renewal: Renewal,
  refused: string | undefined,
  limit: number,
) => Promise<[CachedToken | undefined, string]>

/**
 * The hook of one session: the share protocol, one `renew` per renewal, and its background writes. Its parts: its
 * store calls and reads (here), the wait for the fleet's token (fleetTake), the write of a fresh one (write), and
 * the fleet's budgets (fleetCount).
 */
function createShareHook(
  store: TokenStore,
  namespace: string,
  { apiKey, baseUrl, timeoutMs, now, emit }: ShareContext,
): TokenShare {
  let keys: Promise<Keys> | undefined
  const writes = new Set<Promise<unknown>>()
  /** A write nobody waits for but `settled()`. */
  function background(write: Promise<unknown>): void {
    writes.add(write)
    void write.finally(() => writes.delete(write))
  }
  const report: Report = (call, error) => emit({ type: 'share-failed', call, error: describe(error, apiKey) })

  /**
   * One store call, bounded by `limit` (the timeout, or what is left of the wait). A failure, or a hang past the
   * timeout, marks the store `lost` for this renewal, with `share-failed`; a call cut short only because the wait
   * is over ends that wait quietly. Either way the answer is `fallback`.
   */
  async function call<T>(
    renewal: Renewal,
    name: ShareCall,
    run: (keys: Keys) => Promise<T>,
    fallback: T,
    limit = timeoutMs,
  ): Promise<T> {
    if (renewal.lost) return fallback
    const boundMs = wholeMs(Math.min(limit, timeoutMs))
    const hung = new DOMException(`no answer within ${boundMs} ms`, 'TimeoutError')
    try {
      keys ??= deriveKeys(apiKey, baseUrl, namespace)
      const derived = await keys
      return await within(run(derived), boundMs, hung)
    } catch (error) {
      if (!(error === hung && limit < timeoutMs)) {
        renewal.lost = true
        report(name, error)
      }
      return fallback
    }
  }

  /**
   * The store's token if usable (this key, not due, not `refused`), and the tag of the value read (empty for
   * none). A value that does not open is one `share-failed` however often one renewal reads it.
   */
  async function read(
    renewal: Renewal,
    refused: string | undefined,
    limit: number,
  ): Promise<[CachedToken | undefined, string]> {
    const stored = await call(renewal, 'get', (derived) => store.get(derived.key), undefined, limit)
    if (stored == null) return [undefined, '']
    const at = now()
    // The call succeeded, so the keys are derived.
    const shared = await open(await (keys as Promise<Keys>), stored, at)
    const value = typeof stored === 'string' ? stored : ''
    if (typeof shared === 'string' && renewal.refused !== value) {
      renewal.refused = value
      report('open', new TypeError(`the stored value was refused: ${shared}`))
    }
    // Times are on the writer's clock. One that runs over a minute ahead of this one (set wrong, or stepped) would
    // have this session serve the token past its expiry: its values are not used. A writer a little ahead must not
    // make this session see a clock jump.
    const tag = value.slice(0, IV_TAG)
    if (
      typeof shared === 'string' ||
      shared.token === refused ||
      shared.dueAt <= at ||
      shared.sentAt - at >= CLOCK_SKEW
    )
      return [undefined, tag]
    return [{ ...shared, sentAt: Math.min(shared.sentAt, at) }, tag]
  }

  const take = fleetTake(store, timeoutMs, now, call, read, report)

  const hook: TokenShare = {
    async renew(renewHere, { force, refused }) {
      const found = force ? undefined : await take(refused)
      if (found) {
        emit({ type: 'shared-token-used', expiresAt: found.expiresAt })
        return found
      }
      const fresh = await renewHere()
      // In the background, whatever the reads met: a store that failed them may be back, and the others need it.
      const written = write(fresh, store, now, call).catch((error) => report('set', error))
      background(written)
      return fresh
    },
    async settled() {
      await Promise.all(writes)
    },
  }
  // Read once, as shareTokens checked it.
  if (store.increment !== undefined) Object.assign(hook, fleetCount(store, now, call, background))
  return hook
}

/** How a window the fleet counts is stored: its end, its length and its limit, whole numbers. */
const WINDOW_VALUE = /^(\d{1,15}) (\d{1,9}) (\d{1,9})$/

/**
 * The fleet's budgets of one session. `take(kind, window)` counts a call of its kind in the store's count of that
 * window, one key a window, kept until it ends; the store is skipped for the rest of a window after a failure. The
 * window's first count also stores the window, kept as long as a fleet that ran short goes on counting, for
 * `window(kind)`: an instance that starts then counts its first call with the others', not before them.
 */
function fleetCount(
  store: TokenStore,
  now: () => number,
  call: StoreCall,
  background: (write: Promise<unknown>) => void,
): Required<Pick<TokenShare, 'take' | 'window'>> {
  let countsLostUntil = -Infinity

  async function take(kind: RateLimitKind, window: FleetWindow): Promise<boolean | undefined> {
    const { limit, endsAt, windowMs } = window
    const at = now()
    if (at < countsLostUntil) return undefined
    const ttlMs = Math.max(endsAt - at, 1)
    const counting: Renewal = { lost: false }
    // Named by the window's end, which every instance works out alike: a count begun late still counts that window.
    const increment = (derived: Keys) =>
      (store.increment as Required<TokenStore>['increment'])(`${derived.key}:rate:${kind}:${endsAt}`, wholeMs(ttlMs))
    const counted = await call(counting, 'increment', increment, undefined)
    if (counting.lost) countsLostUntil = now() + ttlMs
    // The window's first count stores the window: one write a window for the whole fleet.
    const keep = (derived: Keys) =>
      store.set(
        `${derived.key}:rate:${kind}:window`,
        `${endsAt} ${windowMs} ${limit}`,
        wholeMs(ttlMs + WINDOWS_KEPT * windowMs),
      )
    if (counted === 1) background(call({ lost: false }, 'set', keep, undefined))
    return typeof counted === 'number' ? counted <= limit : undefined
  }

  /** The window stored, if it is stored as one; the session checks what it says before it takes it. */
  async function window(kind: RateLimitKind): Promise<FleetWindow | undefined> {
    const stored = await call(
      { lost: false },
      'get',
      (derived) => store.get(`${derived.key}:rate:${kind}:window`),
      undefined,
    )
    const match = WINDOW_VALUE.exec(String(stored))
    if (!match) return undefined
    const [endsAt, windowMs, limit] = match.slice(1).map(Number) as [number, number, number]
    return { limit, endsAt, windowMs }
  }

  return { take, window }
}

/**
 * Shares a fresh token until it expires, unless it is already due. Kept past its due time, the value being
 * replaced is what every instance reads at renewal time, so all of them claim the one lease named after it.
 * Never rejects: a failure is an event.
 */
async function write(token: CachedToken, store: TokenStore, now: () => number, call: StoreCall): Promise<void> {
  const at = now()
  if (!usableToken(token, at) || !(token.dueAt - at >= 1)) return
  const { token: value, sentAt, expiresAt, dueAt } = token
  const ttl = wholeMs(expiresAt - at)
  const set = async (derived: Keys) =>
    store.set(derived.key, await seal(derived, { token: value, sentAt, expiresAt, dueAt }), ttl)
  await call({ lost: false }, 'set', set, undefined)
}

/**
 * The wait for the fleet's token of one session: `take(refused)` reads the store, claims the lease when there is
 * one, and waits for the instance that holds it.
 */
function fleetTake(
  store: TokenStore,
  timeoutMs: number,
  now: () => number,
  call: StoreCall,
  read: StoreRead,
  report: Report,
): (refused: string | undefined) => Promise<CachedToken | undefined> {
  // Read once, as shareTokens checked it: a getter is not read again where a throw would reach a caller.
  const claims = store.claim !== undefined

  /**
   * The fleet's token, or undefined once this session holds the lease, has waited 2 timeouts in all (store calls
   * included), found the lease held past its own TTL, or lost the store. The lease is on the value being
   * replaced, so a lease left by the last renewal never delays the next.
   */
  async function take(refused: string | undefined): Promise<CachedToken | undefined> {
    const renewal: Renewal = { lost: false }
    const budget = 2 * timeoutMs
    const leaseMs = wholeMs(timeoutMs)
    let spent = 0
    let leaseSeenAt: number | undefined
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
    while (spent < budget) {
      const [found, tag] = await timed(() => read(renewal, refused, budget - spent))
      if (found || renewal.lost || !claims || !(spent < budget)) return found
      const lease = async (derived: Keys) => (await store.claim?.(`${derived.key}:lease:${tag}`, leaseMs)) === true
      if (await timed(() => call(renewal, 'claim', lease, true, budget - spent))) return undefined
      // A session's lease ends with its TTL, even if the session died; then another claims it and renews, in far
      // less than half a TTL. A lease still held one and a half TTLs after it was first seen was set by someone else
      // who can write the store: waiting on it would only hold the callers up.
      leaseSeenAt ??= spent
      if (spent - leaseSeenAt > 1.5 * leaseMs) {
        report('lease', new Error(`the lease is held past its ${leaseMs} ms TTL`))
        return undefined
      }
      const pause = Math.min(100 + Math.random() * 100, budget - spent)
      await sleep(pause)
      spent += pause
    }
    return undefined
  }

  return take
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
  const key = `${namespace}:${hex(name)}`
  return { key, cipher, bound: encode(`${FORMAT}\n${key}`) }
}

/** The token and its times as base64 text: a random IV, then the AES-GCM ciphertext of their JSON. */
async function seal({ cipher, bound }: Keys, shared: CachedToken): Promise<string> {
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

/**
 * The shared token in a stored value if it decrypts under this key and store key and is a usable, unexpired
 * token; otherwise why it was refused. A value over `VALUE_LIMIT` is refused before it is decoded.
 */
async function open({ cipher, bound }: Keys, stored: unknown, at: number): Promise<CachedToken | string> {
  if (typeof stored !== 'string') return 'it is not a string'
  if (stored === '') return 'it is empty'
  if (stored.length > VALUE_LIMIT) return `it is over ${VALUE_LIMIT} characters`
  const unusable = 'it does not open with this key, or holds no usable token'
  try {
    const bytes = Uint8Array.from(atob(stored), (c) => c.charCodeAt(0))
    const iv = bytes.subarray(0, IV_BYTES)
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: bound },
      cipher,
      bytes.subarray(IV_BYTES),
    )
    const shared: CachedToken = JSON.parse(new TextDecoder().decode(plain))
    return usableToken(shared, at) ? shared : unusable
  } catch {
    return unusable
  }
}

/** A header-safe token whose times are numbers in order and that has not expired at `at`. */
function usableToken(shared: CachedToken | undefined, at: number): shared is CachedToken {
  if (typeof shared?.token !== 'string' || !/^[!-~]{1,8192}$/.test(shared.token)) return false
  const { sentAt, dueAt, expiresAt } = shared
  return [sentAt, dueAt, expiresAt].every(Number.isFinite) && sentAt <= dueAt && dueAt <= expiresAt && expiresAt > at
}
