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

/** A store whose counts live in memory, with the TTL of each count's first increment; `calls` records each. */
function countingStore() {
  const counts = new Map()
  const calls = []
  return {
    calls,
    counts,
    get: async () => null,
    set: async () => {},
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
    assert.equal(await Promise.all([1, 2, 3].map(() => hook.take('read', 2, endsAt))), [true, true, false])
    time.tick(0.4)
    assert.is(await hook.take('write', 2, endsAt - 500), true)
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
    assert.is(await hook.take('read', 2, endsAt + 1_000), true)
  },
)

count('a store without increment gives the session no count: each instance paces alone', async () => {
  const { increment, ...store } = countingStore()
  assert.type(increment, 'function')
  assert.is(shareTokens(store)(context()).take, undefined)
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
  assert.is(await hook.take('read', 10, time.now() + 2_000), undefined)
  assert.is(await hook.take('read', 10, time.now() + 2_000), undefined)
  assert.is(calls, 1, 'not asked again within the window')
  assert.equal(
    ctx.events.map(({ type, call }) => [type, call]),
    [['share-failed', 'increment']],
  )
  assert.not.ok(JSON.stringify(ctx.events).includes(KEY), 'the key is scrubbed from the event')
  time.tick(2_000)
  assert.is(await hook.take('read', 10, time.now() + 2_000), undefined)
  assert.is(calls, 2, 'asked again once the window ended')
})

count('an answer that is not a number says nothing: the call goes, paced by the instance alone', async () => {
  const store = { ...countingStore(), increment: async () => 'OK' }
  assert.is(await shareTokens(store)(context()).take('upload', 1, 1_000), undefined)
})

count('store.increment, when given, must be a function', async () => {
  const store = { ...countingStore(), increment: 'INCR' }
  assertArgumentError(await thrownBy(() => shareTokens(store)), 'store.increment')
})

count.run()
