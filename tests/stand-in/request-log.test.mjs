// The stand-in: the request log and counts, which never hold a secret.
import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, authenticateRequest, refresh, refreshRequest } from '../../dist/index.js'
import { createStandIn } from '../../dist/testing.js'
import { KEY, clock } from '../helpers/index.mjs'
import { API, basic, get, post } from '../helpers/stand-in.mjs'

const log = suite('stand-in: the request log')

log(
  'records method, path without query, time on its clock, kind of credential, whether it carried a key',
  async () => {
    const time = clock()
    const standIn = createStandIn({ now: time.now })
    const { accessToken, refreshToken } = await authenticate(KEY, { fetch: standIn.fetch })
    time.tick(5)
    await standIn.fetch(`${API}/videos?title=x`, { method: 'DELETE' })
    await standIn.fetch(`${API}/videos`, { headers: { authorization: `Bearer ${accessToken}` } })
    await standIn.fetch(`${API}/videos`, { headers: { authorization: basic('wrong-key') } })
    await standIn.fetch(`${API}/videos`, { headers: { authorization: 'Digest x' } })
    await standIn.fetch(refreshRequest(refreshToken))
    // The official client's getAccessToken(): the key in the body and in a Basic header, one request.
    await standIn.fetch(authenticateRequest(KEY, { headers: { authorization: basic(KEY) } }))
    await standIn.fetch(post('/auth/api-key', { apiKey: KEY }, { 'content-type': 'text/plain' }))
    await standIn.fetch(post('/auth/api-key', {}))
    const at = time.now()
    assert.equal(standIn.requests, [
      {
        method: 'POST',
        path: '/auth/api-key',
        at: at - 5,
        credential: 'api-key',
        carriedApiKey: true,
        delivery: false,
      },
      { method: 'DELETE', path: '/videos', at, credential: 'none', carriedApiKey: false, delivery: false },
      { method: 'GET', path: '/videos', at, credential: 'bearer', carriedApiKey: false, delivery: false },
      { method: 'GET', path: '/videos', at, credential: 'basic', carriedApiKey: true, delivery: false },
      { method: 'GET', path: '/videos', at, credential: 'other', carriedApiKey: false, delivery: false },
      {
        method: 'POST',
        path: '/auth/refresh',
        at,
        credential: 'refresh-token',
        carriedApiKey: false,
        delivery: false,
      },
      { method: 'POST', path: '/auth/api-key', at, credential: 'api-key', carriedApiKey: true, delivery: false },
      { method: 'POST', path: '/auth/api-key', at, credential: 'api-key', carriedApiKey: true, delivery: false },
      { method: 'POST', path: '/auth/api-key', at, credential: 'none', carriedApiKey: false, delivery: false },
    ])
    assert.equal(standIn.counts, {
      requests: 9,
      auth: 5,
      resource: 4,
      delivery: 0,
      carriedApiKey: 4,
      rateLimited: 0,
      credentials: { 'api-key': 3, 'refresh-token': 1, basic: 1, bearer: 1, other: 1, none: 2 },
    })
  },
)

log('keeps the last 1,000 requests by default, keepRequests of them if set; the counts forget nothing', async () => {
  const standIn = createStandIn()
  for (let i = 0; i < 1005; i++) await standIn.fetch(`${API}/videos/${i}`, { headers: { authorization: basic(KEY) } })
  assert.is(standIn.requests.length, 1000)
  assert.equal([standIn.requests[0].path, standIn.requests.at(-1).path], ['/videos/5', '/videos/1004'])
  assert.equal([standIn.counts.requests, standIn.counts.resource, standIn.counts.carriedApiKey], [1005, 1005, 1005])
  const few = createStandIn({ keepRequests: 2 })
  const none = createStandIn({ keepRequests: 0 })
  const all = createStandIn({ keepRequests: Infinity })
  for (const s of [few, none, all]) for (let i = 0; i < 3; i++) await s.fetch(`${API}/x${i}`)
  assert.equal(
    few.requests.map((r) => r.path),
    ['/x1', '/x2'],
  )
  assert.equal([none.requests, none.counts.requests], [[], 3])
  assert.is(all.requests.length, 3)
  const counts = few.counts
  counts.requests = 99
  counts.credentials.none = 99
  assert.equal([few.counts.requests, few.counts.credentials.none], [3, 3])
})

log('tokens are bounded: at most 10,000 live ones of each kind, the oldest forgotten first', async () => {
  const standIn = createStandIn({ keepRequests: 0 })
  const first = await authenticate(KEY, { fetch: standIn.fetch })
  const second = await authenticate(KEY, { fetch: standIn.fetch })
  for (let i = 0; i < 9_999; i++) await standIn.handler(authenticateRequest(KEY))
  assert.is((await standIn.handler(get('/videos', first.accessToken))).status, 401)
  assert.is((await standIn.handler(get('/videos', second.accessToken))).status, 200)
  assert.is((await standIn.handler(refreshRequest(first.refreshToken))).status, 400)
  assert.is((await standIn.handler(refreshRequest(second.refreshToken))).status, 200)
})

log('holds no key, refresh token or access token, whatever the traffic', async () => {
  const secretKey = 'sk_live_SECRET_KEY_123'
  const standIn = createStandIn({ apiKeys: [secretKey] })
  const seen = [secretKey]
  const first = await authenticate(secretKey, { fetch: standIn.fetch })
  const second = await refresh(first.refreshToken, { fetch: standIn.fetch })
  seen.push(first.accessToken, first.refreshToken, second.accessToken, second.refreshToken)
  await standIn.fetch(refreshRequest(first.refreshToken))
  await standIn.fetch(authenticateRequest('sk_live_WRONG_KEY_456'))
  seen.push('sk_live_WRONG_KEY_456')
  await standIn.fetch(`${API}/videos?token=${second.accessToken}`, {
    headers: { authorization: `Bearer ${second.accessToken}` },
  })
  assert.is(standIn.requests.length, 5)
  const shown = JSON.stringify(standIn.requests) + inspect(standIn, { depth: 10, showHidden: true })
  for (const secret of seen) assert.not.ok(shown.includes(secret), 'a secret is in the log')
})

log.run()
