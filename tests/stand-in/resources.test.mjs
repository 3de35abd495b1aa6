// The stand-in: every other path is a protected resource: Bearer and Basic credentials, 401s.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, createSession, refresh, refreshRequest } from '../../dist/index.js'
import { createStandIn } from '../../dist/testing.js'
import { KEY, clock } from '../helpers/index.mjs'
import { API, INVALID_API_KEY, INVALID_TOKEN, basic, emptyPage, get } from '../helpers/stand-in.mjs'

const resource = suite('stand-in: every other path is a protected resource')

resource(
  'a live Bearer token gets 200; none, a wrong one or another scheme gets 401 with the problem body',
  async () => {
    const standIn = createStandIn()
    const { accessToken } = await authenticate(KEY, { fetch: standIn.fetch })
    const ok = await standIn.handler(get('/players/pl123?x=1', accessToken))
    assert.is(ok.status, 200)
    assert.equal(await ok.json(), { method: 'GET', path: '/players/pl123' })
    const refused = [
      get('/videos'),
      get('/videos', 'at.forged'),
      new Request(`${API}/videos`, { headers: { authorization: `Token ${accessToken}` } }),
    ]
    for (const request of refused) {
      const response = await standIn.handler(request)
      assert.is(response.status, 401)
      assert.match(response.headers.get('content-type'), /^application\/json/)
      assert.equal(await response.json(), INVALID_TOKEN)
    }
  },
)

resource(
  'Basic credentials with a known key as user name and no password get 200; any other Basic gets 401',
  async () => {
    const standIn = createStandIn({ apiKeys: [KEY, 'other-key'] })
    for (const key of [KEY, 'other-key']) {
      const ok = await standIn.handler(new Request(`${API}/videos`, { headers: { authorization: basic(key) } }))
      assert.is(ok.status, 200)
    }
    const { accessToken } = await authenticate(KEY, { fetch: standIn.fetch })
    const refused = [
      basic('wrong-key'),
      basic(KEY, 'password'),
      basic(''),
      `Basic ${accessToken}`,
      'Basic !!!',
      `Basic ${Buffer.from(KEY).toString('base64')}x`,
    ]
    for (const authorization of refused) {
      const response = await standIn.handler(new Request(`${API}/videos`, { headers: { authorization } }))
      assert.is(response.status, 401, authorization)
      assert.equal(await response.json(), INVALID_API_KEY)
    }
  },
)

resource(
  "GET on a list route answers an empty page in api.video's list shape; other methods and paths echo",
  async () => {
    const standIn = createStandIn()
    const { accessToken } = await authenticate(KEY, { fetch: standIn.fetch })
    const list = await standIn.handler(get('/videos', accessToken))
    assert.is(list.headers.get('content-type'), 'application/json')
    assert.equal(await list.json(), emptyPage(API))
    const paged = await standIn.handler(get('/live-streams?currentPage=3&pageSize=10', accessToken))
    assert.equal(await paged.json(), emptyPage(API, '/live-streams', 3, 10))
    for (const path of ['/players', '/webhooks', '/upload-tokens', '/watermarks']) {
      assert.equal((await (await standIn.handler(get(path, accessToken))).json()).data, [], path)
    }
    const created = await standIn.handler(
      new Request(`${API}/players`, {
        method: 'POST',
        headers: { authorization: basic(KEY) },
        body: '{"name":"x"}',
      }),
    )
    assert.equal(await created.json(), { method: 'POST', path: '/players' })
  },
)

resource('a token is valid until expires_in has passed on the stand-in clock, not a millisecond more', async () => {
  const time = clock()
  const standIn = createStandIn({ expiresIn: 60, now: time.now })
  const { accessToken } = await authenticate(KEY, { fetch: standIn.fetch })
  time.tick(59_999)
  assert.is((await standIn.handler(get('/videos', accessToken))).status, 200)
  time.tick(1)
  assert.is((await standIn.handler(get('/videos', accessToken))).status, 401)
})

resource('revoke() invalidates every access token issued so far; refresh tokens stay good', async () => {
  const standIn = createStandIn()
  const a = await authenticate(KEY, { fetch: standIn.fetch })
  const b = await authenticate(KEY, { fetch: standIn.fetch })
  standIn.revoke()
  assert.is((await standIn.handler(get('/videos', a.accessToken))).status, 401)
  assert.is((await standIn.handler(get('/videos', b.accessToken))).status, 401)
  const c = await refresh(a.refreshToken, { fetch: standIn.fetch })
  assert.is((await standIn.handler(get('/videos', c.accessToken))).status, 200)
})

resource('tokens of one stand-in mean nothing to another', async () => {
  const one = createStandIn()
  const other = createStandIn()
  const { accessToken, refreshToken } = await authenticate(KEY, { fetch: one.fetch })
  assert.is((await other.handler(get('/videos', accessToken))).status, 401)
  assert.is((await other.handler(refreshRequest(refreshToken))).status, 400)
})

resource('a session through standIn.fetch renews once and replays after a revoke', async () => {
  const standIn = createStandIn()
  const session = createSession({ apiKey: KEY, fetch: standIn.fetch })
  assert.is((await session.fetch(`${API}/videos`)).status, 200)
  standIn.revoke()
  const replies = await Promise.all(Array.from({ length: 5 }, () => session.fetch(`${API}/videos`)))
  assert.equal(
    replies.map((r) => r.status),
    [200, 200, 200, 200, 200],
  )
  assert.equal(
    standIn.requests.filter((r) => r.path.startsWith('/auth/')).map((r) => r.path),
    ['/auth/api-key', '/auth/refresh'],
  )
})

resource.run()
