// What the share add-on's suites (tests/share/) share: an in-memory store on a fake clock, a fake session
// context, tokens as the core hands them over, the documented value format, and a fleet of sessions on one store.
import { randomBytes } from 'node:crypto'
import { createSession } from '../../dist/index.js'
import { shareTokens } from '../../dist/share.js'
import { createStandIn } from '../../dist/testing.js'
import { derive as deriveWith, seal as sealWith, unseal as unsealWith } from '../fleet/sealed.mjs'
import { KEY, clock, recordingIssuedTokens } from './index.mjs'

export const HOUR = 3_600_000
export const MARGIN = 300_000
export const BASE = 'https://ws.api.video'
export const VALUE_LIMIT = 16 * 1024
export const never = () => new Promise(() => {})
export const STORE_KEY = /^apivideo-auth:[0-9a-f]{64}$/
/** The options of a renewal that reads the store first, and of one that does not (`forceRefresh`). */
export const READ_FIRST = { force: false, refused: undefined }
export const FORCED = { force: true, refused: undefined }

/** A TokenStore in a Map, expiring on the fake clock; `log` records every call in order. */
export function memoryStore(time, log = [], { claim = true } = {}) {
  const data = new Map()
  const live = (key) => {
    const entry = data.get(key)
    return entry && entry.until > time.now() ? entry.value : null
  }
  const store = {
    data,
    log,
    writes: [],
    calls: (op) => log.filter((entry) => entry[0] === op).length,
    async get(key) {
      log.push(['get', key])
      return live(key)
    },
    async set(key, value, ttl) {
      log.push(['set', key, ttl])
      store.writes.push({ key, value, ttl })
      data.set(key, { value, until: time.now() + ttl })
    },
    async claim(key, ttl) {
      log.push(['claim', key, ttl])
      if (live(key) !== null) return false
      data.set(key, { value: '1', until: time.now() + ttl })
      return true
    },
  }
  if (!claim) delete store.claim
  return store
}

/** The format as the docs describe it, for this test's key and base URL by default. */
export const derive = (apiKey = KEY, baseUrl = BASE, namespace) => deriveWith(apiKey, baseUrl, namespace)
export const unseal = (value, keys = derive()) => unsealWith(value, keys)
export const seal = (content, keys = derive(), aad) => sealWith(content, keys, aad)

/** A fake session context: the hook sees only this. `events` is what it emitted, `types()` their types. */
export function context({ apiKey = KEY, baseUrl = BASE, timeout = 10_000, time = clock() } = {}) {
  const events = []
  const types = () => events.map((event) => event.type)
  return { apiKey, baseUrl, timeoutMs: timeout, now: time.now, emit: (event) => events.push(event), events, types }
}

/** A token as the core hands it to the hook, issued now on `time`, due 5 minutes before its expiry. */
export function issued(time, token = `at.${randomBytes(6).toString('hex')}`) {
  const sentAt = time.now()
  return { token, sentAt, expiresAt: sentAt + HOUR, dueAt: sentAt + HOUR - MARGIN }
}

/** A `renewHere` answering `token`; `runs` counts the renewals it made (0: the hook answered from the store). */
export function renewing(token) {
  const renewHere = async () => {
    renewHere.runs++
    return token
  }
  renewHere.runs = 0
  return renewHere
}

/** Writes `token` as the renewal that got it does, without a read (`forceRefresh`), and waits for the write. */
export async function write(share, token) {
  await share.renew(async () => token, FORCED)
  await share.settled()
}

/** One fake clock, one stand-in, one store; `instance()` makes a session of the fleet. */
export function fleet({ claim = true, apiKey = KEY, standIn: standInOptions } = {}) {
  const time = clock()
  const standIn = createStandIn({ apiKeys: [apiKey], now: time.now, ...standInOptions })
  const log = []
  const store = memoryStore(time, log, { claim })
  const { record, refreshTokens, accessTokens } = recordingIssuedTokens(standIn.fetch)
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    log.push(['fetch', new URL(request.url).pathname])
    return record(request)
  }
  const instance = ({ key, ...options } = {}) => {
    const events = []
    const waiting = []
    const onEvent = (event) => {
      events.push(event)
      for (const [type, resolve] of waiting) if (type === event.type) resolve(event)
    }
    const session = createSession({
      apiKey,
      fetch,
      now: time.now,
      share: shareTokens(store, { key }),
      onEvent,
      ...options,
    })
    // A renewal's start is left out: these tests look at what renewals did.
    const types = () => events.map((e) => e.type).filter((type) => type !== 'renewal-started')
    /** Resolves on the first event of `type` (at once if there was one). */
    const event = (type) =>
      new Promise((resolve) => (types().includes(type) ? resolve() : waiting.push([type, resolve])))
    /** What each `share-failed` said: the call and the error. */
    const failures = () => events.filter((e) => e.type === 'share-failed').map(({ call, error }) => ({ call, error }))
    return { session, events, types, event, failures }
  }
  const paths = () => standIn.requests.map((r) => r.path).filter((p) => p.startsWith('/auth/'))
  return { time, standIn, store, log, refreshTokens, accessTokens, instance, paths }
}

export const onlyKey = (store) => [...store.data.keys()].find((k) => !k.includes(':lease'))
export const stored = (store, key = onlyKey(store)) => unseal(store.data.get(key).value)
