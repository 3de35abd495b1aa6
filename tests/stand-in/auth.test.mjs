// The stand-in: the two auth endpoints: token pairs, rotating refresh tokens, api.video's 400s.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, authenticateRequest, readAccessToken, refresh, refreshRequest } from '../../dist/index.js'
import { createStandIn } from '../../dist/testing.js'
import { KEY, failure } from '../helpers/index.mjs'
import { API, authOpenapi, conforms, example, get, post, schemas } from '../helpers/stand-in.mjs'

const auth = suite('stand-in: the auth endpoints')

auth('a known key gets a JSON token pair, as the OpenAPI document describes it', async () => {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const response = await standIn.handler(authenticateRequest(KEY))
  assert.is(response.status, 200)
  assert.match(response.headers.get('content-type'), /^application\/json/)
  const body = await response.json()
  assert.equal(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
  assert.equal(
    Object.keys(body).sort(),
    Object.keys(authOpenapi.components.schemas['access-token'].properties).sort(),
  )
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
    new Request(`${API}/auth/api-key`, {
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
    assert.is(response.url, `${API}/auth/refresh`, 'the answer carries its URL, as a real fetch answer does')
    assert.is(response.status, 400)
    assert.is((await failure(readAccessToken(response, { endpoint: 'refresh' }))).code, 'INVALID_REFRESH_TOKEN')
  },
)

auth(
  "an auth path under a prefix (a base URL with a path, …/v1) is api.video's 404, never a credentials answer",
  async () => {
    const standIn = createStandIn({ apiKeys: [KEY] })
    const notFound = {
      type: 'https://docs.api.video/reference/resource-not-found',
      title: 'The requested resource was not found.',
      name: '',
      status: 404,
    }
    const requests = [
      authenticateRequest(KEY, { baseUrl: `${API}/v1` }),
      refreshRequest('rt.x', { baseUrl: `${API}/v1` }),
      authenticateRequest(KEY, { baseUrl: `${API}/api/v2` }),
      new Request(`${API}/v1/auth/api-key`),
    ]
    for (const request of requests) {
      const response = await standIn.handler(request)
      assert.is(response.status, 404, `${request.method} ${request.url}`)
      const body = await response.json()
      assert.equal(body, notFound)
      conforms(body, schemas['not-found'])
    }
    const error = await failure(authenticate(KEY, { baseUrl: `${API}/v1`, fetch: standIn.fetch }))
    assert.is(error.status, 404)
    assert.is.not(error.code, 'INVALID_CREDENTIALS')
    assert.is((await standIn.handler(authenticateRequest(KEY))).status, 200, 'the root path still answers')
  },
)

auth.run()
