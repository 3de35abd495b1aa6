import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { shareTokens } from '../../dist/share.js'
import { KEY, assertArgumentError, clock, thrownBy } from '../helpers/index.mjs'

const BASE = 'https://ws.api.video'
const STORE_KEY = /^apivideo-auth:[0-9a-f]{64}:rate:(read|write|upload):\d+$/

/** A fake session context: the hook sees only this. `events` is what it emitted. */
function context(time = clock()) {
  const events = []
  return { apiKey: KEY, baseUrl: BASE, timeoutMs: 1_000, now: time.now, emit: (event) => events.push(event), events }
}

/** A window of `limit` calls that ends at `endsAt`, of 1 s. */
const windowOf = (limit, endsAt) => ({ limit, endsAt, windowMs: 1_000 })

/**
 * A store whose counts and values live in memory, with the TTL of each count's first increment; `calls` records each
 * increment, `sets` each set.
 */
function countingStore() {
  const counts = new Map()
  const values = new Map()
  const calls = []
  const sets = []
  return {
    calls,
    counts,
    sets,
    get: async (key) => values.get(key) ?? null,
    async set(key, value, ttlMs) {
      sets.push({ key, value, ttlMs })
      values.set(key, value)
    },
    async increment(key, ttlMs) {
      calls.push({ key, ttlMs })
      const count = (counts.get(key) ?? 0) + 1
      counts.set(key, count)
      return count
    },
  }
}

const count = suite("share: the fleet's rate-limit count")

count(
  'take() counts each call at a key derived from the API key, one a kind and a window, and says whether it may go',
  async () => {
    const time = clock()
    const store = countingStore()
    const hook = shareTokens(store)(context(time))
    const endsAt = time.now() + 1_000
    assert.equal(await Promise.all([1, 2, 3].map(() => hook.take('read', windowOf(2, endsAt)))), [true, true, false])
    time.tick(0.4)
    assert.is(await hook.take('write', windowOf(2, endsAt - 500)), true)
    const [read, , , write] = store.calls
    assert.match(read.key, STORE_KEY)
    assert.ok(read.key.endsWith(`:rate:read:${endsAt}`), 'named by the kind and the window end')
    assert.ok(write.key.endsWith(`:rate:write:${endsAt - 500}`))
    assert.is(read.key.replace(/:rate:.*/, ''), write.key.replace(/:rate:.*/, ''))
    assert.not.ok(read.key.includes(KEY), 'the key says nothing of the API key')
    assert.is(read.ttlMs, 1_000, 'kept until the window ends')
    assert.is(write.ttlMs, 500, 'a whole number of ms')
    // The next window is another count, whatever the last one's was.
    time.tick(1_000)
    assert.is(await hook.take('read', windowOf(2, endsAt + 1_000)), true)
  },
)

count("a window's first count stores the window, which window() answers to an instance that starts", async () => {
  const time = clock()
  const store = countingStore()
  const endsAt = time.now() + 600
  const first = shareTokens(store)(context(time))
  assert.is(await first.window('read'), undefined, 'no window before a count')
  await Promise.all([1, 2, 3].map(() => first.take('read', { limit: 40, endsAt, windowMs: 1_000 })))
  await first.settled()
  assert.is(store.sets.length, 1, 'one write a window, by its first count')
  const [set] = store.sets
  assert.ok(set.key.endsWith(':rate:read:window'), set.key)
  assert.is(set.key.replace(/:rate:.*/, ''), store.calls[0].key.replace(/:rate:.*/, ''), 'at the count key')
  assert.is(set.ttlMs, 600 + 3 * 1_000, 'kept three windows past its end')
  // Another instance of the fleet, starting now and later: the window as stored; its end may have passed.
  const starting = shareTokens(store)(context(time))
  assert.equal(await starting.window('read'), { limit: 40, endsAt, windowMs: 1_000 })
  assert.is(await starting.window('write'), undefined, 'one window a kind')
  time.tick(2)
  assert.equal(await starting.window('read'), { limit: 40, endsAt, windowMs: 1_000 })
})

count('a stored value that is not three whole numbers reads as none; the session checks what they say', async () => {
  const time = clock()
  const store = countingStore()
  const hook = shareTokens(store)(context(time))
  await hook.take('read', windowOf(5, time.now() + 1_000))
  const [{ key }] = store.sets
  for (const value of [
    'garbage',
    `${time.now() + 500} 1000`,
    `${time.now() + 500} 1000 -4`,
    `${time.now() + 500} 1000 1.5`,
    ` ${time.now() + 500} 1000 40`,
    `${time.now() + 500} 1000 40 `.repeat(1_000),
  ]) {
    await store.set(key, value, 1_000)
    assert.is(await hook.window('read'), undefined, value.slice(0, 40))
  }
  await store.set(key, `${time.now() + 500} 1000 40`, 1_000)
  assert.equal(await hook.window('read'), { limit: 40, endsAt: time.now() + 500, windowMs: 1_000 })
})

count('a store without increment gives the session no count: each instance paces alone', async () => {
  const { increment, ...store } = countingStore()
  assert.type(increment, 'function')
  const hook = shareTokens(store)(context())
  assert.is(hook.take, undefined)
  assert.is(hook.window, undefined)
})

count('a count that fails is share-failed `increment`, and skipped for the rest of that window', async () => {
  const time = clock()
  const ctx = context(time)
  let calls = 0
  const store = {
    get: async () => null,
    set: async () => {},
    increment: async () => {
      calls++
      throw new Error(`redis down (key ${KEY})`)
    },
  }
  const hook = shareTokens(store)(ctx)
  assert.is(await hook.take('read', windowOf(10, time.now() + 2_000)), undefined)
  assert.is(await hook.take('read', windowOf(10, time.now() + 2_000)), undefined)
  assert.is(calls, 1, 'not asked again within the window')
  assert.equal(
    ctx.events.map(({ type, call }) => [type, call]),
    [['share-failed', 'increment']],
  )
  assert.not.ok(JSON.stringify(ctx.events).includes(KEY), 'the key is scrubbed from the event')
  time.tick(2_000)
  assert.is(await hook.take('read', windowOf(10, time.now() + 2_000)), undefined)
  assert.is(calls, 2, 'asked again once the window ended')
})

count('an answer that is not a number says nothing: the call goes, paced by the instance alone', async () => {
  const store = { ...countingStore(), increment: async () => 'OK' }
  assert.is(await shareTokens(store)(context()).take('upload', windowOf(1, 1_000)), undefined)
})

count('store.increment, when given, must be a function', async () => {
  const store = { ...countingStore(), increment: 'INCR' }
  assertArgumentError(await thrownBy(() => shareTokens(store)), 'store.increment')
})

count.run()
