// apivideo-auth/share: one store read and one renewal per instance.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SANDBOX_URL, createSession } from '../../dist/index.js'
import { shareTokens } from '../../dist/share.js'
import { createStandIn } from '../../dist/testing.js'
import { KEY, clock } from '../helpers/index.mjs'
import { HOUR, MARGIN, derive, fleet, memoryStore } from '../helpers/share.mjs'

const flight = suite('share: one store read and one renewal per instance')

flight('500 concurrent cold callers: one read, one claim, one request, one write', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  const tokens = await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
  await a.session.settled()
  assert.is(new Set(tokens).size, 1)
  assert.equal([store.calls('get'), store.calls('claim'), store.calls('set')], [1, 1, 1])
  assert.equal(paths(), ['/auth/api-key'])
})

flight('500 concurrent callers when the store holds a fresh token: one read, no request', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  await a.session.token()
  await a.session.settled()
  const b = instance()
  const tokens = await Promise.all(Array.from({ length: 500 }, () => b.session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.is(store.calls('get'), 2)
  assert.equal(paths(), ['/auth/api-key'])
})

flight(
  '500 concurrent callers at renewal time: served the held token, one read, one refresh, one write',
  async () => {
    const { instance, store, paths, time } = fleet()
    const a = instance()
    const first = await a.session.token()
    await a.session.settled()
    time.tick(HOUR - MARGIN / 2)
    const tokens = await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
    assert.equal(new Set(tokens), new Set([first]))
    await a.session.settled()
    assert.equal([store.calls('get'), store.calls('set')], [2, 2])
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
  },
)

flight('500 concurrent callers inside the hard window: they wait for one read, one refresh, one write', async () => {
  const { instance, store, paths, time } = fleet()
  const a = instance()
  const first = await a.session.token()
  await a.session.settled()
  time.tick(HOUR - 10_000)
  const tokens = await Promise.all(Array.from({ length: 500 }, () => a.session.token()))
  assert.is(new Set(tokens).size, 1)
  assert.is.not(tokens[0], first)
  await a.session.settled()
  assert.equal([store.calls('get'), store.calls('set')], [2, 2])
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
})

flight('sessions with the same key and base share one store key; another API key or base gets another', async () => {
  const time = clock()
  const store = memoryStore(time)
  const standIn = createStandIn({ apiKeys: [KEY, 'other-key'], now: time.now })
  const make = (options) =>
    createSession({ apiKey: KEY, fetch: standIn.fetch, now: time.now, share: shareTokens(store), ...options })
  for (const options of [{}, {}, { apiKey: 'other-key' }, { baseUrl: SANDBOX_URL }]) {
    const session = make(options)
    await session.token()
    await session.settled()
  }
  const written = new Set(store.writes.map((w) => w.key))
  assert.equal([...written], [derive().key, derive('other-key').key, derive(KEY, SANDBOX_URL).key])
  assert.is(standIn.requests.length, 3)
})

flight.run()
