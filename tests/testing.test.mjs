import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { inspect } from 'node:util'
import { parse } from 'yaml'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  authenticate,
  authenticateRequest,
  createSession,
  readAccessToken,
  refresh,
  refreshRequest,
} from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { KEY, clock, failure, serve } from './helpers.mjs'

const URL_ = 'https://ws.api.video'
const openapi = parse(readFileSync(new URL('fixtures/auth-openapi.yaml', import.meta.url), 'utf8'))
const example = (path) =>
  openapi.paths[path].post.responses['400'].content['application/json'].examples.response.value
const INVALID_TOKEN = {
  type: 'https://docs.api.video/reference/authentication-invalid-access-token',
  title: 'The access token is invalid or expired.',
  name: '',
  status: 401,
}
const INVALID_API_KEY = {
  type: 'https://docs.api.video/reference/authentication-invalid-api-key',
  title: 'The API key is invalid.',
  name: '',
  status: 401,
}
const basic = (user, password = '') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
/** api.video's empty first page, for `origin` (the links are absolute URLs, as api.video's are). */
const emptyPage = (origin, path = '/videos', page = 1, size = 25) => ({
  data: [],
  pagination: {
    currentPage: page,
    pageSize: size,
    pagesTotal: 1,
    itemsTotal: 0,
    currentPageItems: 0,
    links: [
      { rel: 'self', uri: `${origin}${path}?currentPage=${page}&pageSize=${size}` },
      { rel: 'first', uri: `${origin}${path}?currentPage=1&pageSize=${size}` },
      { rel: 'last', uri: `${origin}${path}?currentPage=1&pageSize=${size}` },
    ],
  },
})

const post = (path, body, headers = { 'content-type': 'application/json' }) =>
  new Request(URL_ + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
const get = (path, token) => new Request(URL_ + path, { headers: token ? { authorization: `Bearer ${token}` } : {} })

const auth = suite('stand-in: the auth endpoints')

auth('a known key gets a JSON token pair, as the OpenAPI document describes it', async () => {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const response = await standIn.handler(authenticateRequest(KEY))
  assert.is(response.status, 200)
  assert.match(response.headers.get('content-type'), /^application\/json/)
  const body = await response.json()
  assert.equal(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
  assert.equal(Object.keys(body).sort(), Object.keys(openapi.components.schemas['access-token'].properties).sort())
  assert.is(body.token_type, 'Bearer')
  assert.is(body.expires_in, 3600)
  assert.type(body.access_token, 'string')
  assert.type(body.refresh_token, 'string')
  assert.is.not(body.access_token, body.refresh_token)
})

auth('expiresIn sets the lifetime it announces; every key of apiKeys is accepted', async () => {
  const standIn = createStandIn({ apiKeys: ['one', 'two'], expiresIn: 3599 })
  assert.is((await authenticate('one', { fetch: standIn.fetch })).expiresIn, 3599)
  assert.is((await authenticate('two', { fetch: standIn.fetch })).expiresIn, 3599)
})

auth('an unknown key gets 400 with the body of the OpenAPI example', async () => {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const response = await standIn.handler(authenticateRequest('wrong-key'))
  assert.is(response.status, 400)
  assert.equal(await response.json(), example('/auth/api-key'))
  const error = await failure(authenticate('wrong-key', { fetch: standIn.fetch }))
  assert.is(error.code, 'INVALID_CREDENTIALS')
  assert.equal(error.problem, example('/auth/api-key'))
})

auth('a malformed request gets 400 with the credentials body: no JSON, no key, another method', async () => {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const requests = [
    post('/auth/api-key', '{not json'),
    post('/auth/api-key', {}),
    post('/auth/api-key', 'null'),
    post('/auth/api-key', { apiKey: 'wrong' }, { 'content-type': 'application/json; charset=utf-8' }),
    new Request(`${URL_}/auth/api-key`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: KEY }),
    }),
    get('/auth/api-key'),
    post('/auth/refresh', {}),
  ]
  for (const request of requests) {
    const response = await standIn.handler(request)
    assert.is(response.status, 400, `${request.method} ${request.url}`)
    assert.equal(await response.json(), example('/auth/api-key'))
  }
})

auth(
  'a body sent as another content type, or none, gets 400 whose title says the content type is wrong',
  async () => {
    const standIn = createStandIn({ apiKeys: [KEY] })
    const requests = [
      post('/auth/api-key', { apiKey: KEY }, { 'content-type': 'text/plain' }),
      post('/auth/api-key', `apiKey=${KEY}`, { 'content-type': 'application/x-www-form-urlencoded' }),
      post('/auth/api-key', { apiKey: KEY }, {}),
      post('/auth/refresh', { refreshToken: 'rt.x' }, { 'content-type': 'application/jsonx' }),
    ]
    for (const request of requests) {
      const response = await standIn.handler(request)
      assert.is(response.status, 400, `${request.method} ${request.url} ${request.headers.get('content-type')}`)
      const body = await response.json()
      assert.equal(Object.keys(body), ['type', 'title', 'name', 'status'])
      assert.match(body.title, /content type is wrong.*application\/json/)
      assert.is(body.status, 400)
    }
    const error = await failure(
      readAccessToken(
        await standIn.fetch(requests[0].url, { method: 'POST', body: JSON.stringify({ apiKey: KEY }) }),
        { endpoint: 'api-key' },
      ),
    )
    assert.is(error.code, 'INVALID_CREDENTIALS')
    assert.ok(
      (
        await standIn.handler(
          post('/auth/api-key', { apiKey: KEY }, { 'content-type': 'Application/JSON; charset=utf-8' }),
        )
      ).ok,
    )
  },
)

auth('refresh tokens rotate: each is good once, and the new one works', async () => {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const first = await authenticate(KEY, { fetch: standIn.fetch })
  const second = await refresh(first.refreshToken, { fetch: standIn.fetch })
  assert.is.not(second.refreshToken, first.refreshToken)
  assert.is.not(second.accessToken, first.accessToken)
  const reused = await standIn.handler(refreshRequest(first.refreshToken))
  assert.is(reused.status, 400)
  assert.equal(await reused.json(), example('/auth/refresh'))
  assert.ok((await refresh(second.refreshToken, { fetch: standIn.fetch })).accessToken)
})

auth('two concurrent refreshes with one token: one wins, the other is refused', async () => {
  const standIn = createStandIn()
  const { refreshToken } = await authenticate(KEY, { fetch: standIn.fetch })
  const results = await Promise.allSettled([
    refresh(refreshToken, { fetch: standIn.fetch }),
    refresh(refreshToken, { fetch: standIn.fetch }),
  ])
  assert.equal(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
  assert.is(results.find((r) => r.status === 'rejected').reason.code, 'INVALID_REFRESH_TOKEN')
})

auth(
  'an unknown refresh token is refused with 400, which readAccessToken reads as INVALID_REFRESH_TOKEN',
  async () => {
    const standIn = createStandIn()
    const response = await standIn.fetch(refreshRequest('never-issued'))
    assert.is(response.url, `${URL_}/auth/refresh`, 'the answer carries its URL, as a real fetch answer does')
    assert.is(response.status, 400)
    assert.is((await failure(readAccessToken(response, { endpoint: 'refresh' }))).code, 'INVALID_REFRESH_TOKEN')
  },
)

auth.run()

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
      new Request(`${URL_}/videos`, { headers: { authorization: `Token ${accessToken}` } }),
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
      const ok = await standIn.handler(new Request(`${URL_}/videos`, { headers: { authorization: basic(key) } }))
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
      const response = await standIn.handler(new Request(`${URL_}/videos`, { headers: { authorization } }))
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
    assert.equal(await list.json(), emptyPage(URL_))
    const paged = await standIn.handler(get('/live-streams?currentPage=3&pageSize=10', accessToken))
    assert.equal(await paged.json(), emptyPage(URL_, '/live-streams', 3, 10))
    for (const path of ['/players', '/webhooks', '/upload-tokens', '/watermarks']) {
      assert.equal((await (await standIn.handler(get(path, accessToken))).json()).data, [], path)
    }
    const created = await standIn.handler(
      new Request(`${URL_}/players`, {
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
  assert.is((await session.fetch(`${URL_}/videos`)).status, 200)
  standIn.revoke()
  const replies = await Promise.all(Array.from({ length: 5 }, () => session.fetch(`${URL_}/videos`)))
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

const faults = suite('stand-in: faults')

faults('queued replies are served in order, one per request, then normal answers resume', async () => {
  const standIn = createStandIn()
  standIn.fail('/auth/api-key', { status: 503 }, { status: 500 })
  standIn.fail('/auth/api-key', { status: 502 })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await standIn.handler(authenticateRequest(KEY))).status)
  assert.equal(statuses, [503, 500, 502, 200])
})

faults('a fault only touches its own path, including a resource path', async () => {
  const standIn = createStandIn()
  standIn.fail('/videos', { status: 404 })
  const { accessToken } = await authenticate(KEY, { fetch: standIn.fetch })
  assert.is((await standIn.handler(get('/live-streams', accessToken))).status, 200)
  assert.is((await standIn.handler(get('/videos', accessToken))).status, 404)
  assert.is((await standIn.handler(get('/videos', accessToken))).status, 200)
})

faults('a status fault has a default problem body; its own body and headers replace it', async () => {
  const standIn = createStandIn()
  standIn.fail(
    '/auth/api-key',
    { status: 503 },
    { status: 429, body: { title: 'slow down' }, headers: { 'x-ratelimit-retry-after': '7' } },
  )
  const first = await standIn.handler(authenticateRequest(KEY))
  assert.equal(await first.json(), { type: 'about:blank', title: 'Stand-in fault 503.', name: '', status: 503 })
  const error = await failure(authenticate(KEY, { fetch: standIn.fetch }))
  assert.is(error.code, 'RATE_LIMITED')
  assert.is(error.retryAfter, 7)
  assert.equal(error.problem, { title: 'slow down' })
})

faults('a 204 fault answers without a body', async () => {
  const standIn = createStandIn()
  standIn.fail('/videos', { status: 204 })
  const response = await standIn.handler(get('/videos'))
  assert.is(response.status, 204)
  assert.is(await response.text(), '')
})

faults('networkError makes the fetch reject as a dropped connection would', async () => {
  const standIn = createStandIn()
  standIn.fail('/auth/api-key', { networkError: true })
  assert.instance(await failure(standIn.fetch(authenticateRequest(KEY))), TypeError)
  standIn.fail('/auth/api-key', { networkError: true })
  assert.is((await failure(authenticate(KEY, { fetch: standIn.fetch }))).code, 'NETWORK_ERROR')
})

faults('delay holds the normal answer back; an abort ends it with the signal reason', async () => {
  const standIn = createStandIn()
  standIn.fail('/auth/api-key', { delay: 1 })
  assert.is((await standIn.fetch(authenticateRequest(KEY))).status, 200)
  standIn.fail('/auth/api-key', { delay: 60_000 })
  const controller = new AbortController()
  const pending = standIn.fetch(authenticateRequest(KEY), { signal: controller.signal })
  const reason = new Error('gave up')
  controller.abort(reason)
  assert.is(await failure(pending), reason)
})

faults('an already aborted request is refused before anything is recorded', async () => {
  const standIn = createStandIn()
  const reason = new Error('no')
  assert.is(await failure(standIn.fetch(authenticateRequest(KEY), { signal: AbortSignal.abort(reason) })), reason)
  assert.equal(standIn.requests, [])
})

faults('bad arguments throw a TypeError naming the argument, never its value', () => {
  const standIn = createStandIn()
  const cases = [
    [() => standIn.fail('videos'), /^path /],
    [() => standIn.fail(42), /^path /],
    [() => standIn.fail('/x', { status: 99 }), /^faults /],
    [() => standIn.fail('/x', { status: 600 }), /^faults /],
    [() => standIn.fail('/x', { delay: -1 }), /^faults /],
    [() => standIn.fail('/x', { networkError: 'yes' }), /^faults /],
    [() => standIn.fail('/x', null), /^faults /],
    // Each of these was accepted, then went wrong only at the next request (a network error, a 1 ms timer).
    [() => standIn.fail('/videos?currentPage=2', { status: 503 }), /^path /],
    [() => standIn.fail('/x#top', { status: 503 }), /^path /],
    [() => standIn.fail('/x', { status: 500, headers: 5 }), /^faults /],
    [() => standIn.fail('/x', { status: 500, headers: { 'x-a': 'a\nb' } }), /^faults /],
    [() => standIn.fail('/x', { status: 500, body: { n: 1n } }), /^faults /],
    [() => standIn.fail('/x', { delay: 3e9 }), /^faults /],
    [() => createStandIn({ apiKeys: 'sk_secret_value' }), /^apiKeys /],
    [() => createStandIn({ apiKeys: [42] }), /^apiKeys /],
    [() => createStandIn({ expiresIn: 0 }), /^expiresIn /],
    [() => createStandIn({ expiresIn: Infinity }), /^expiresIn /],
    [() => createStandIn({ now: 5 }), /^now /],
    [() => createStandIn({ keepRequests: -1 }), /^keepRequests /],
    [() => createStandIn({ keepRequests: 1.5 }), /^keepRequests /],
    [() => createStandIn({ keepRequests: '10' }), /^keepRequests /],
    // A misspelt option was ignored: the stand-in then refused the key the test meant to allow.
    [
      () => createStandIn({ apikeys: ['sk_secret_value'] }),
      /^unknown option apikeys \(did you mean apiKeys\?\)$/,
    ],
    [
      () => createStandIn({ expiresInMs: 5 }),
      /^unknown option expiresInMs \(did you mean expiresIn\?\)$/,
    ],
    [() => createStandIn('sk_secret_value'), /^options must be an object$/],
  ]
  for (const [run, message] of cases) {
    try {
      run()
      assert.unreachable('did not throw')
    } catch (error) {
      assert.instance(error, TypeError)
      assert.match(error.message, message)
      assert.not.match(error.message, 'sk_secret_value')
    }
  }
  standIn.fail('/x', { status: 200 }, { delay: 0 }, { networkError: true })
})

faults.run()

const log = suite('stand-in: the request log')

log(
  'records method, path without query, time on its clock, kind of credential, whether it carried a key',
  async () => {
    const time = clock()
    const standIn = createStandIn({ now: time.now })
    const { accessToken, refreshToken } = await authenticate(KEY, { fetch: standIn.fetch })
    time.tick(5)
    await standIn.fetch(`${URL_}/videos?title=x`, { method: 'DELETE' })
    await standIn.fetch(`${URL_}/videos`, { headers: { authorization: `Bearer ${accessToken}` } })
    await standIn.fetch(`${URL_}/videos`, { headers: { authorization: basic('wrong-key') } })
    await standIn.fetch(`${URL_}/videos`, { headers: { authorization: 'Digest x' } })
    await standIn.fetch(refreshRequest(refreshToken))
    // The official client's getAccessToken(): the key in the body and in a Basic header, one request.
    await standIn.fetch(authenticateRequest(KEY, { headers: { authorization: basic(KEY) } }))
    await standIn.fetch(post('/auth/api-key', { apiKey: KEY }, { 'content-type': 'text/plain' }))
    await standIn.fetch(post('/auth/api-key', {}))
    const at = time.now()
    assert.equal(standIn.requests, [
      { method: 'POST', path: '/auth/api-key', at: at - 5, credential: 'api-key', carriedApiKey: true },
      { method: 'DELETE', path: '/videos', at, credential: 'none', carriedApiKey: false },
      { method: 'GET', path: '/videos', at, credential: 'bearer', carriedApiKey: false },
      { method: 'GET', path: '/videos', at, credential: 'basic', carriedApiKey: true },
      { method: 'GET', path: '/videos', at, credential: 'other', carriedApiKey: false },
      { method: 'POST', path: '/auth/refresh', at, credential: 'refresh-token', carriedApiKey: false },
      { method: 'POST', path: '/auth/api-key', at, credential: 'api-key', carriedApiKey: true },
      { method: 'POST', path: '/auth/api-key', at, credential: 'api-key', carriedApiKey: true },
      { method: 'POST', path: '/auth/api-key', at, credential: 'none', carriedApiKey: false },
    ])
    assert.equal(standIn.counts, {
      requests: 9,
      auth: 5,
      resource: 4,
      carriedApiKey: 4,
      credentials: { 'api-key': 3, 'refresh-token': 1, basic: 1, bearer: 1, other: 1, none: 2 },
    })
  },
)

log('keeps the last 1,000 requests by default, keepRequests of them if set; the counts forget nothing', async () => {
  const standIn = createStandIn()
  for (let i = 0; i < 1005; i++)
    await standIn.fetch(`${URL_}/videos/${i}`, { headers: { authorization: basic(KEY) } })
  assert.is(standIn.requests.length, 1000)
  assert.equal([standIn.requests[0].path, standIn.requests.at(-1).path], ['/videos/5', '/videos/1004'])
  assert.equal([standIn.counts.requests, standIn.counts.resource, standIn.counts.carriedApiKey], [1005, 1005, 1005])
  const few = createStandIn({ keepRequests: 2 })
  const none = createStandIn({ keepRequests: 0 })
  const all = createStandIn({ keepRequests: Infinity })
  for (const s of [few, none, all]) for (let i = 0; i < 3; i++) await s.fetch(`${URL_}/x${i}`)
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
  await standIn.fetch(`${URL_}/videos?token=${second.accessToken}`, {
    headers: { authorization: `Bearer ${second.accessToken}` },
  })
  assert.is(standIn.requests.length, 5)
  const shown = JSON.stringify(standIn.requests) + inspect(standIn, { depth: 10, showHidden: true })
  for (const secret of seen) assert.not.ok(shown.includes(secret), 'a secret is in the log')
})

log.run()

const http = suite('stand-in served over node:http')

http('the library, a session and plain fetch get the same answers over a real loopback server', async () => {
  const standIn = createStandIn({ apiKeys: [KEY], expiresIn: 3599 })
  const server = await serve(standIn.handler)
  try {
    const baseUrl = server.url
    const first = await authenticate(KEY, { baseUrl })
    assert.is(first.expiresIn, 3599)
    const second = await refresh(first.refreshToken, { baseUrl })
    assert.is((await failure(refresh(first.refreshToken, { baseUrl }))).code, 'INVALID_REFRESH_TOKEN')
    const wrong = await failure(authenticate('wrong-key', { baseUrl }))
    assert.equal([wrong.code, wrong.problem], ['INVALID_CREDENTIALS', example('/auth/api-key')])
    const denied = await fetch(`${baseUrl}/videos`)
    assert.equal([denied.status, await denied.json()], [401, INVALID_TOKEN])
    const allowed = await fetch(`${baseUrl}/videos`, { headers: { authorization: `Bearer ${second.accessToken}` } })
    assert.equal([allowed.status, await allowed.json()], [200, emptyPage(baseUrl)])
    const withKey = await fetch(`${baseUrl}/players/pl1`, { headers: { authorization: basic(KEY) } })
    assert.equal([withKey.status, await withKey.json()], [200, { method: 'GET', path: '/players/pl1' }])
    const session = createSession({ apiKey: KEY, baseUrl })
    standIn.revoke()
    assert.is((await session.fetch(`${baseUrl}/players`, { method: 'POST', body: '{}' })).status, 200)
  } finally {
    await server.close()
  }
})

/** Runs `check` with a stand-in that accepts KEY, served on 127.0.0.1 until it ends. */
async function overHttp(check) {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const server = await serve(standIn.handler)
  try {
    await check(standIn, server)
  } finally {
    await server.close()
  }
}

http('a request body over 1 MiB is a 413, not read into memory; the server goes on serving', () =>
  overHttp(async (standIn, server) => {
    const big = new Uint8Array(2 * 1024 * 1024)
    const sized = await fetch(`${server.url}/auth/api-key`, { method: 'POST', body: big })
    assert.equal([sized.status, (await sized.json()).title], [413, 'The request body is over 1 MiB.'])
    // Without a content-length (chunked): refused once 1 MiB has arrived.
    let sent = 0
    const stream = new ReadableStream({
      pull(controller) {
        if (sent >= 4 * 1024 * 1024) return controller.close()
        sent += 64 * 1024
        controller.enqueue(new Uint8Array(64 * 1024))
      },
    })
    const chunked = await fetch(`${server.url}/videos`, { method: 'POST', body: stream, duplex: 'half' }).catch(
      (error) => error,
    )
    assert.ok(chunked.status === 413 || chunked instanceof TypeError, `${chunked.status ?? chunked}`)
    assert.equal(standIn.requests, [], 'the handler never saw either request')
    assert.is((await fetch(`${server.url}/videos`)).status, 401)
  }),
)

http('an absolute-form target (what a client sends through a proxy) is served by its path', () =>
  overHttp(async (standIn, server) => {
    const { port } = new URL(server.url)
    // node:http sends the request target as given, where fetch would normalise it.
    const statusFor = (path) =>
      new Promise((resolve, reject) =>
        request({ host: '127.0.0.1', port, path, headers: { authorization: basic(KEY) } })
          .on('response', (response) => (response.resume(), resolve(response.statusCode)))
          .on('error', reject)
          .end(),
      )
    assert.is(await statusFor(`${server.url}/videos`), 200)
    // A path starting with `//` stays a path, never a host.
    assert.is(await statusFor('//evil.example/videos'), 200)
    assert.equal(
      standIn.requests.map((r) => r.path),
      ['/videos', '//evil.example/videos'],
    )
  }),
)

http('faults travel over the wire: a status with headers, and a dropped connection', async () => {
  const standIn = createStandIn()
  const server = await serve(standIn.handler)
  try {
    standIn.fail(
      '/auth/api-key',
      { status: 429, headers: { 'x-ratelimit-retry-after': '3' } },
      { networkError: true },
    )
    const limited = await failure(authenticate(KEY, { baseUrl: server.url }))
    assert.equal([limited.code, limited.retryAfter], ['RATE_LIMITED', 3])
    assert.is((await failure(authenticate(KEY, { baseUrl: server.url }))).code, 'NETWORK_ERROR')
    assert.ok((await authenticate(KEY, { baseUrl: server.url })).accessToken)
  } finally {
    await server.close()
  }
})

http.run()
