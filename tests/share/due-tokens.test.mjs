// apivideo-auth/share: who renews a due shared token.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { withRandom } from '../helpers/index.mjs'
import { HOUR, MARGIN, fleet, onlyKey, stored } from '../helpers/share.mjs'

const renew = suite('share: who renews a due shared token')

renew('an instance with its own refresh token uses it when the shared token is due', async () => {
  await withRandom(0, async () => {
    const { instance, time, paths, store } = fleet()
    const a = instance()
    const b = instance()
    const first = await a.session.token()
    await a.session.settled()
    assert.is(await b.session.token(), first)
    time.tick(HOUR - MARGIN)
    assert.is(await a.session.token(), first, 'the due token is served while it is renewed')
    await a.session.settled()
    const renewed = await a.session.token()
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.is(await b.session.token(), first)
    await b.session.settled()
    assert.is(await b.session.token(), renewed)
    assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
    assert.is(store.calls('get'), 4)
  })
})

renew('an instance without a refresh token uses the API key when the shared token is due', async () => {
  await withRandom(0, async () => {
    const { instance, time, paths } = fleet()
    const a = instance()
    const b = instance()
    const first = await a.session.token()
    await a.session.settled()
    assert.is(await b.session.token(), first)
    time.tick(HOUR - MARGIN)
    assert.is(await b.session.token(), first)
    await b.session.settled()
    const renewed = await b.session.token()
    assert.is.not(renewed, first)
    assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
    await a.session.token()
    await a.session.settled()
    assert.is(await a.session.token(), renewed)
    assert.equal(paths().length, 2)
  })
})

renew('a due shared token (not yet expired) is not used, and is no share-failed', async () => {
  const { instance, time, store, paths } = fleet()
  const a = instance()
  await a.session.token()
  await a.session.settled()
  const entry = store.data.get(onlyKey(store))
  time.tick(stored(store).dueAt - time.now())
  entry.until = Infinity
  const b = instance()
  assert.is.not(await b.session.token(), stored(store).token)
  assert.equal(paths(), ['/auth/api-key', '/auth/api-key'])
  assert.equal(b.types(), ['authenticated'])
})

renew('a token that got a 401 from session.fetch is not taken from the store again', async () => {
  const { instance, standIn, store } = fleet()
  const a = instance()
  const revoked = await a.session.token()
  await a.session.settled()
  standIn.revoke()
  const b = instance()
  assert.is(await b.session.token(), revoked)
  const response = await b.session.fetch('https://ws.api.video/videos')
  assert.is(response.status, 200)
  const current = await b.session.token()
  await b.session.settled()
  assert.is.not(current, revoked)
  assert.is(stored(store).token, current)
  assert.equal(b.types(), ['shared-token-used', 'authenticated'])
})

renew('a plain invalidate() drops the token for good: it is not taken back from the store', async () => {
  const { instance, store, paths } = fleet()
  const a = instance()
  const dropped = await a.session.token()
  await a.session.settled()
  a.session.invalidate()
  const next = await a.session.token()
  await a.session.settled()
  assert.is.not(next, dropped)
  assert.equal(paths(), ['/auth/api-key', '/auth/refresh'])
  assert.is(stored(store).token, next)
})

renew('a writer whose clock runs ahead: the reader keeps the token, no clock jump, no second read', async () => {
  const { instance, store, time } = fleet()
  const a = instance({ now: () => time.now() + 1_000 })
  const token = await a.session.token()
  await a.session.settled()
  const b = instance()
  assert.is(await b.session.token(), token)
  assert.is(await b.session.token(), token)
  assert.is(store.calls('get'), 2)
  assert.not.ok(b.types().includes('clock-jumped'))
})

renew.run()
