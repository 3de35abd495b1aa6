// Issue 11, "The API users expect", items 1-3: paths relative to the session, the key from the
// environment, typos caught. Tests named "regression" held on 0.1.0 already; every other one failed there.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  SANDBOX_URL,
  authenticate,
  authenticateRequest,
  createSession,
  readAccessToken,
  refresh,
  refreshRequest,
} from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { KEY, failure, serve, tokenBody } from './helpers.mjs'

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

/** A fetch that grants on /auth/*, answers 200 elsewhere, and records every request it was given. */
function recorder() {
  const requests = []
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    requests.push(request)
    const { pathname } = new URL(request.url)
    return pathname.endsWith('/auth/api-key') || pathname.endsWith('/auth/refresh')
      ? json(200, tokenBody(requests.length))
      : json(200, { url: request.url })
  }
  return { fetch, requests, urls: () => requests.map((r) => r.url) }
}

const isTypeError = (pattern) => (error) => error instanceof TypeError && pattern.test(error.message)

// ---------------------------------------------------------------------------------------------
const paths = suite('issue 11 #1: session.fetch paths are relative to the session')

paths('session.fetch("/videos") hits the production API by default', async () => {
  const { fetch, urls } = recorder()
  const session = createSession({ apiKey: KEY, fetch })
  const response = await session.fetch('/videos')
  assert.is(response.status, 200)
  assert.equal(urls(), ['https://ws.api.video/auth/api-key', 'https://ws.api.video/videos'])
})

paths(
  'session.fetch("/videos?currentPage=2") keeps the query, against the sandbox when baseUrl says so',
  async () => {
    const { fetch, urls } = recorder()
    const session = createSession({ apiKey: KEY, fetch, baseUrl: SANDBOX_URL })
    await session.fetch('/videos?currentPage=2')
    assert.is(urls()[1], 'https://sandbox.api.video/videos?currentPage=2')
  },
)

paths('a baseUrl with a path prefix: "/videos" is appended to it, as /auth/api-key is', async () => {
  // Decision: the base URL is a prefix (a proxy mounting the API under /api.video), the same rule
  // as for the auth endpoints, so '/videos' becomes '<base>/videos', not '<origin>/videos'.
  const { fetch, urls } = recorder()
  const session = createSession({ apiKey: KEY, fetch, baseUrl: 'https://proxy.example/api.video/' })
  await session.fetch('/videos')
  assert.equal(urls(), ['https://proxy.example/api.video/auth/api-key', 'https://proxy.example/api.video/videos'])
})

paths('a round trip through a loopback stand-in: a path is authorized and answered', async () => {
  const standIn = createStandIn({ apiKeys: [KEY] })
  const server = await serve(standIn.handler)
  try {
    const session = createSession({ apiKey: KEY, baseUrl: server.url })
    const response = await session.fetch('/players/pl1', { method: 'GET' })
    assert.is(response.status, 200)
    assert.equal(await response.json(), { method: 'GET', path: '/players/pl1' })
    assert.equal(
      standIn.requests.map((r) => r.path),
      ['/auth/api-key', '/players/pl1'],
    )
  } finally {
    await server.close()
  }
})

paths('regression: an absolute URL on the session origin is still accepted', async () => {
  const { fetch, urls } = recorder()
  const session = createSession({ apiKey: KEY, fetch })
  assert.is((await session.fetch('https://ws.api.video/videos')).status, 200)
  assert.is((await session.fetch(new URL('https://ws.api.video/videos/1'))).status, 200)
  assert.is((await session.fetch(new Request('https://ws.api.video/videos/2'))).status, 200)
  assert.equal(urls().slice(1), [
    'https://ws.api.video/videos',
    'https://ws.api.video/videos/1',
    'https://ws.api.video/videos/2',
  ])
})

const foreign = {
  'another host (string)': 'https://evil.example/videos',
  'a look-alike host (URL)': new URL('https://ws.api.video.evil.example/videos'),
  'plain http (string)': 'http://ws.api.video/videos',
  'another port (Request)': new Request('https://ws.api.video:8443/videos'),
  'another host (Request)': new Request('https://evil.example/videos', { headers: { authorization: 'Bearer mine' } }),
}

for (const [what, input] of Object.entries(foreign)) {
  paths(`${what}: TypeError naming the expected origin, nothing sent, no token requested`, async () => {
    const { fetch, requests } = recorder()
    const session = createSession({ apiKey: KEY, fetch })
    const error = await failure(session.fetch(input))
    assert.instance(error, TypeError)
    assert.ok(error.message.includes('https://ws.api.video'), error.message)
    assert.is(requests.length, 0)
  })
}

paths('a sandbox session refuses a production URL, naming the sandbox origin', async () => {
  const { fetch, requests } = recorder()
  const session = createSession({ apiKey: KEY, fetch, baseUrl: SANDBOX_URL })
  const error = await failure(session.fetch('https://ws.api.video/videos'))
  assert.instance(error, TypeError)
  assert.ok(error.message.includes('https://sandbox.api.video'), error.message)
  assert.is(requests.length, 0)
})

paths.run()

// ---------------------------------------------------------------------------------------------
const environment = suite('issue 11 #2: the key from the environment')

const MISSING = 'apiKey is missing: pass { apiKey } or set APIVIDEO_API_KEY'
let savedKey
environment.before.each(() => {
  savedKey = Object.hasOwn(process.env, 'APIVIDEO_API_KEY') ? process.env.APIVIDEO_API_KEY : undefined
  delete process.env.APIVIDEO_API_KEY
})
environment.after.each(() => {
  if (savedKey === undefined) delete process.env.APIVIDEO_API_KEY
  else process.env.APIVIDEO_API_KEY = savedKey
})

environment('createSession without apiKey sends APIVIDEO_API_KEY', async () => {
  process.env.APIVIDEO_API_KEY = 'env-key-0123456789'
  const { fetch, requests } = recorder()
  const session = createSession({ fetch })
  assert.is(await session.token(), 'access-1')
  assert.equal(await requests[0].json(), { apiKey: 'env-key-0123456789' })
})

environment('createSession() with no argument at all works when APIVIDEO_API_KEY is set (nothing sent)', () => {
  process.env.APIVIDEO_API_KEY = 'env-key-0123456789'
  const session = createSession()
  assert.type(session.token, 'function')
})

environment('apiKey: undefined reads APIVIDEO_API_KEY too', async () => {
  process.env.APIVIDEO_API_KEY = 'env-key-0123456789'
  const { fetch, requests } = recorder()
  await createSession({ apiKey: undefined, fetch }).token()
  assert.equal(await requests[0].json(), { apiKey: 'env-key-0123456789' })
})

environment('regression: an explicit apiKey wins over APIVIDEO_API_KEY', async () => {
  process.env.APIVIDEO_API_KEY = 'env-key-0123456789'
  const { fetch, requests } = recorder()
  await createSession({ apiKey: KEY, fetch }).token()
  assert.equal(await requests[0].json(), { apiKey: KEY })
})

environment(`no key anywhere: TypeError "${MISSING}"`, () => {
  for (const options of [undefined, {}, { apiKey: undefined }]) {
    assert.throws(
      () => createSession(options),
      (error) => error instanceof TypeError && error.message === MISSING,
      `createSession(${JSON.stringify(options)})`,
    )
  }
})

environment('an empty APIVIDEO_API_KEY counts as missing', () => {
  // Decision: CI systems set an unset secret to '' (GitHub Actions does); that is "missing", not "invalid".
  process.env.APIVIDEO_API_KEY = ''
  assert.throws(
    () => createSession(),
    (error) => error instanceof TypeError && error.message === MISSING,
  )
})

environment('an apiKey of the wrong type names the type it got, never the value', async () => {
  const check = (error) =>
    error instanceof TypeError &&
    /\bapiKey\b/.test(error.message) &&
    error.message.includes('got number') &&
    !error.message.includes('918273645')
  assert.throws(() => createSession({ apiKey: 918273645 }), check)
  assert.throws(() => authenticateRequest(918273645), check)
  assert.ok(check(await failure(authenticate(918273645, { fetch: recorder().fetch }))))
  assert.throws(
    () => authenticateRequest(undefined),
    (error) => error instanceof TypeError && error.message.includes('got undefined'),
  )
  assert.throws(
    () => refreshRequest(918273645),
    (error) =>
      error instanceof TypeError &&
      /\brefreshToken\b/.test(error.message) &&
      error.message.includes('got number') &&
      !error.message.includes('918273645'),
  )
})

environment.run()

// ---------------------------------------------------------------------------------------------
const typos = suite('issue 11 #3: typos are caught with a did-you-mean')

const VALUE = 'SECRET-LOOKING-VALUE-0123'

/** A TypeError naming the unknown option, the suggestion when given, and never the option's value. */
function unknown(name, suggestion) {
  const expected = suggestion ? `unknown option ${name} (did you mean ${suggestion}?)` : `unknown option ${name}`
  return (error) => {
    assert.instance(error, TypeError)
    assert.ok(
      error.message.includes(expected),
      `message ${JSON.stringify(error.message)}, expected ${JSON.stringify(expected)}`,
    )
    if (!suggestion) assert.not.match(error.message, 'did you mean')
    assert.not.match(error.message, VALUE)
    return true
  }
}

const sessionTypos = [
  ['baseURL', 'baseUrl'],
  ['refreshMarginMs', 'refreshMargin'],
  ['timeoutMs', 'timeout'],
  ['Retries', 'retries'],
  ['onevent', 'onEvent'],
  ['frobnicate', undefined],
]
for (const [name, suggestion] of sessionTypos) {
  typos(
    `createSession({ ${name} }) -> unknown option ${name}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
    () => {
      const { fetch } = recorder()
      assert.throws(() => createSession({ apiKey: KEY, fetch, [name]: VALUE }), unknown(name, suggestion))
    },
  )
}

typos('createSession refuses the 0.1.0 store options, now gone', () => {
  const { fetch } = recorder()
  const store = { get: async () => null, set: async () => {} }
  assert.throws(() => createSession({ apiKey: KEY, fetch, store }), isTypeError(/\bstore\b/))
  assert.throws(() => createSession({ apiKey: KEY, fetch, storeKey: 'k' }), isTypeError(/\bstoreKey\b/))
})

typos('authenticate and refresh refuse a typo, nothing sent', async () => {
  const { fetch, requests } = recorder()
  unknown('baseURL', 'baseUrl')(await failure(authenticate(KEY, { fetch, baseURL: VALUE })))
  unknown('Timeout', 'timeout')(await failure(refresh('refresh-1', { fetch, Timeout: VALUE })))
  unknown('timeoutMs', 'timeout')(await failure(authenticate(KEY, { fetch, timeoutMs: VALUE })))
  assert.is(requests.length, 0)
})

typos('authenticateRequest and refreshRequest refuse a typo', () => {
  assert.throws(() => authenticateRequest(KEY, { baseURL: VALUE }), unknown('baseURL', 'baseUrl'))
  assert.throws(() => refreshRequest('refresh-1', { HEADERS: VALUE }), unknown('HEADERS', 'headers'))
  assert.throws(() => authenticateRequest(KEY, { frobnicate: VALUE }), unknown('frobnicate'))
})

typos('readAccessToken refuses a typo', async () => {
  unknown('sentAtMs', 'sentAt')(await failure(readAccessToken(json(200, tokenBody()), { sentAtMs: VALUE })))
})

typos('token() refuses a typo, nothing sent', async () => {
  const { fetch, requests } = recorder()
  const session = createSession({ apiKey: KEY, fetch })
  unknown('forcerefresh', 'forceRefresh')(await failure(session.token({ forcerefresh: VALUE })))
  unknown('forceRefreshMs', 'forceRefresh')(await failure(session.token({ forceRefreshMs: VALUE })))
  assert.is(requests.length, 0)
})

typos.run()

// ---------------------------------------------------------------------------------------------
const optional = suite('every optional property accepts undefined')

const undefinedCall = { baseUrl: undefined, headers: undefined, signal: undefined, timeout: undefined }

optional('regression: createSession with every optional property undefined', async () => {
  const { fetch } = recorder()
  const session = createSession({
    apiKey: KEY,
    fetch,
    baseUrl: undefined,
    headers: undefined,
    timeout: undefined,
    refreshMargin: undefined,
    retries: undefined,
    now: undefined,
    onEvent: undefined,
  })
  assert.is(await session.token({ signal: undefined, forceRefresh: undefined }), 'access-1')
  assert.is(await session.authorization({ signal: undefined }), 'Bearer access-1')
})

optional('regression: createSession accepts share: undefined', async () => {
  const { fetch } = recorder()
  const session = createSession({ apiKey: KEY, fetch, share: undefined })
  assert.is(await session.token(), 'access-1')
})

optional('regression: createSession accepts fetch: undefined (globalThis.fetch at call time)', () => {
  assert.type(createSession({ apiKey: KEY, fetch: undefined }).token, 'function')
})

optional('regression: authenticate, refresh, the builders and readAccessToken with undefined options', async () => {
  const { fetch } = recorder()
  assert.is((await authenticate(KEY, { ...undefinedCall, fetch })).accessToken, 'access-1')
  assert.is((await refresh('refresh-1', { ...undefinedCall, fetch })).accessToken, 'access-2')
  assert.instance(authenticateRequest(KEY, { baseUrl: undefined, headers: undefined }), Request)
  assert.instance(refreshRequest('refresh-1', { baseUrl: undefined, headers: undefined }), Request)
  assert.is((await readAccessToken(json(200, tokenBody()), { sentAt: undefined })).accessToken, 'access-1')
})

optional.run()
