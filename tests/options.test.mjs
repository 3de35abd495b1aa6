// Options: the key from the environment, unknown and undefined options, and values refused before anything is sent.
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
import {
  KEY,
  assertArgumentError,
  clearEnvironment,
  failure,
  json,
  overHttp,
  recorder,
  scripted,
  settle,
  thrownBy,
  tokenBody,
  typeErrorNaming,
} from './helpers/index.mjs'

// ---------------------------------------------------------------------------------------------
const environment = suite('options: the key from the environment')

const MISSING = 'apiKey is missing: pass { apiKey } or set APIVIDEO_API_KEY'
let restoreEnvironment
environment.before.each(() => {
  restoreEnvironment = clearEnvironment('APIVIDEO_API_KEY', 'APIVIDEO_BASE_URL')
})
environment.after.each(() => restoreEnvironment())

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

environment(`no key anywhere: TypeError "${MISSING}", code ERR_MISSING_API_KEY`, () => {
  for (const options of [undefined, {}, { apiKey: undefined }]) {
    assert.throws(
      () => createSession(options),
      (error) => error instanceof TypeError && error.message === MISSING && error.code === 'ERR_MISSING_API_KEY',
      `createSession(${JSON.stringify(options)})`,
    )
  }
})

environment('on Cloudflare Workers, a missing key says to pass { apiKey: env.APIVIDEO_API_KEY }', () => {
  // Workers have no process.env to set: the key is a binding on `env`, so that is the advice.
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
  Object.defineProperty(globalThis, 'navigator', { configurable: true, value: { userAgent: 'Cloudflare-Workers' } })
  try {
    assert.throws(
      () => createSession(),
      (error) =>
        error instanceof TypeError &&
        error.message.includes('pass { apiKey: env.APIVIDEO_API_KEY }') &&
        !error.message.includes('set APIVIDEO_API_KEY'),
    )
  } finally {
    if (descriptor) Object.defineProperty(globalThis, 'navigator', descriptor)
    else delete globalThis.navigator
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

environment('createSession without baseUrl sends to APIVIDEO_BASE_URL, session.fetch included', async () => {
  process.env.APIVIDEO_BASE_URL = 'http://127.0.0.1:8089/'
  const { fetch, urls } = recorder()
  const session = createSession({ apiKey: KEY, fetch })
  await session.fetch('/videos')
  assert.equal(urls(), ['http://127.0.0.1:8089/auth/api-key', 'http://127.0.0.1:8089/videos'])
})

environment('APIVIDEO_BASE_URL reaches a real stand-in on 127.0.0.1 with the global fetch', async () => {
  await overHttp(async (standIn, server) => {
    process.env.APIVIDEO_BASE_URL = server.url
    const response = await createSession({ apiKey: KEY }).fetch('/videos')
    assert.is(response.status, 200)
    assert.equal(
      standIn.requests.map((r) => r.path),
      ['/auth/api-key', '/videos'],
    )
  })
})

environment('an explicit baseUrl wins over APIVIDEO_BASE_URL, even a bad one', async () => {
  for (const variable of ['http://127.0.0.1:8089', 'not a url']) {
    process.env.APIVIDEO_BASE_URL = variable
    const { fetch, urls } = recorder()
    await createSession({ apiKey: KEY, fetch, baseUrl: SANDBOX_URL }).token()
    assert.equal(urls(), ['https://sandbox.api.video/auth/api-key'], variable)
  }
})

environment('an empty APIVIDEO_BASE_URL counts as absent: production', async () => {
  process.env.APIVIDEO_BASE_URL = ''
  const { fetch, urls } = recorder()
  await createSession({ apiKey: KEY, fetch }).token()
  assert.equal(urls(), ['https://ws.api.video/auth/api-key'])
})

for (const variable of ['http://evil.example', 'https://ws.api.video/?secret=SECRET-IN-URL', 'ws.api.video']) {
  environment(
    `a bad APIVIDEO_BASE_URL (${variable}) is a TypeError naming the variable, never its value`,
    async () => {
      process.env.APIVIDEO_BASE_URL = variable
      const { fetch, requests } = recorder()
      const error = await thrownBy(() => createSession({ apiKey: KEY, fetch }))
      assertArgumentError(error, 'APIVIDEO_BASE_URL')
      assert.match(error.message, /^APIVIDEO_BASE_URL must be/)
      assert.not.match(error.message, variable)
      assert.not.match(error.message, 'SECRET-IN-URL')
      assert.is(requests.length, 0)
    },
  )
}

environment.run()

// ---------------------------------------------------------------------------------------------
const typos = suite('options: typos are caught with a did-you-mean')

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
  assert.throws(() => createSession({ apiKey: KEY, fetch, store }), typeErrorNaming('store'))
  assert.throws(() => createSession({ apiKey: KEY, fetch, storeKey: 'k' }), typeErrorNaming('storeKey'))
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
  unknown(
    'sentAtMs',
    'sentAt',
  )(await failure(readAccessToken(json(200, tokenBody()), { endpoint: 'api-key', sentAtMs: VALUE })))
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
const optional = suite('options: every optional property accepts undefined')

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

optional('regression: createSession accepts fetch: undefined (globalThis.fetch at call time)', async () => {
  const session = createSession({ apiKey: KEY, fetch: undefined })
  const { fetch, requests } = recorder()
  const original = globalThis.fetch
  globalThis.fetch = fetch
  try {
    assert.is(await session.token(), 'access-1')
  } finally {
    globalThis.fetch = original
  }
  assert.equal(
    requests.map((r) => r.url),
    ['https://ws.api.video/auth/api-key'],
    'the global fetch set after createSession was the one called',
  )
})

optional('regression: authenticate, refresh, the builders and readAccessToken with undefined options', async () => {
  const { fetch } = recorder()
  assert.is((await authenticate(KEY, { ...undefinedCall, fetch })).accessToken, 'access-1')
  assert.is((await refresh('refresh-1', { ...undefinedCall, fetch })).accessToken, 'access-2')
  assert.instance(authenticateRequest(KEY, { baseUrl: undefined, headers: undefined }), Request)
  assert.instance(refreshRequest('refresh-1', { baseUrl: undefined, headers: undefined }), Request)
  assert.is(
    (await readAccessToken(json(200, tokenBody()), { endpoint: 'api-key', sentAt: undefined })).accessToken,
    'access-1',
  )
})

optional.run()

// ---------------------------------------------------------------------------------------------
const timeouts = suite('options: a timeout is honoured or refused, never shortened')

const TOO_LONG = 2 ** 31

/** Answers after a 10 ms timer: a timeout wrongly turned into 1 ms fires first (timers run in expiry order). */
function answersAfterTenMs() {
  const { fetch, requests } = scripted(
    (_, n) => new Promise((resolve) => setTimeout(() => resolve(json(200, tokenBody(n))), 10)),
  )
  return { fetch, requests }
}

timeouts(
  'authenticate: a timeout of 2**31 ms is refused (TypeError naming timeout) or honoured, never 1 ms',
  async () => {
    const { fetch, requests } = answersAfterTenMs()
    let outcome
    try {
      outcome = await authenticate(KEY, { fetch, timeout: TOO_LONG })
    } catch (error) {
      outcome = error
    }
    if (outcome instanceof TypeError) {
      assert.match(outcome.message, /\btimeout\b/)
      assert.is(requests.length, 0, 'refused before sending')
    } else {
      assert.not.instance(outcome, Error, `got ${outcome?.code ?? outcome}`)
      assert.is(outcome.accessToken, 'access-1')
    }
  },
)

timeouts(
  'createSession: a timeout of 2**31 ms is refused (TypeError naming timeout) or honoured, never 1 ms',
  async () => {
    const { fetch, requests } = answersAfterTenMs()
    let session
    try {
      session = createSession({ apiKey: KEY, fetch, retries: 0, timeout: TOO_LONG })
    } catch (error) {
      assert.instance(error, TypeError)
      assert.match(error.message, /\btimeout\b/)
      return
    }
    let outcome
    try {
      outcome = await session.token()
    } catch (error) {
      outcome = error
    }
    assert.is(outcome, 'access-1', `got ${outcome?.code ?? outcome}`)
    assert.is(requests.length, 1)
  },
)

timeouts.run()

// ---------------------------------------------------------------------------------------------
const bareBase = suite('options: a base URL ending in a bare ? or # is refused')

for (const base of [
  'https://ws.api.video?',
  'https://ws.api.video#',
  'https://ws.api.video/?',
  'https://ws.api.video/#',
]) {
  bareBase(`${base} is refused by the builders, authenticate and createSession`, async () => {
    const { fetch, requests } = scripted(() => json(200, tokenBody()))
    assert.throws(() => authenticateRequest(KEY, { baseUrl: base }), typeErrorNaming('baseUrl'))
    assert.throws(() => refreshRequest('refresh-1', { baseUrl: base }), typeErrorNaming('baseUrl'))
    assert.throws(() => createSession({ apiKey: KEY, baseUrl: base, fetch }), typeErrorNaming('baseUrl'))
    assert.ok(typeErrorNaming('baseUrl')(await failure(authenticate(KEY, { baseUrl: base, fetch }))))
    assert.is(requests.length, 0)
  })
}

bareBase.run()

// ---------------------------------------------------------------------------------------------
const gaps = suite('options: signal and now are checked before anything is sent')

gaps('createSession refuses a signal option (unknown option) with a TypeError naming signal', () => {
  const { fetch } = scripted(() => json(200, tokenBody()))
  const signal = new AbortController().signal
  assert.throws(() => createSession({ apiKey: KEY, fetch, signal }), typeErrorNaming('signal'))
})

gaps('a now returning a Date: TypeError naming now on the first token(), and no request sent', async () => {
  const { fetch, requests } = scripted((_, n) => json(200, tokenBody(n)))
  let session
  try {
    session = createSession({ apiKey: KEY, fetch, now: () => new Date() })
  } catch (thrown) {
    assert.instance(thrown, TypeError)
    assert.match(thrown.message, /\bnow\b/)
    return
  }
  const error = await session.token().then(
    (token) => `resolved with ${token}`,
    (e) => e,
  )
  assert.instance(error, TypeError, String(error))
  assert.match(error.message, /\bnow\b/)
  assert.is(requests.length, 0)
})

gaps(
  'a signal-like { aborted: false } given to token() is a TypeError naming signal, and nothing is sent',
  async () => {
    const { fetch, requests } = scripted((_, n) => json(200, tokenBody(n)))
    const session = createSession({ apiKey: KEY, fetch })
    const error = await failure(session.token({ signal: { aborted: false } }))
    assert.instance(error, TypeError)
    assert.match(error.message, /\bsignal\b/, error.message)
    assert.not.match(error.message, /is not a function/, 'an argument check, not a crash')
    await settle()
    assert.is(requests.length, 0)
  },
)

gaps(
  'a signal-like { aborted: false } given to authenticate is a TypeError naming signal, and nothing is sent',
  async () => {
    const { fetch, requests } = scripted((_, n) => json(200, tokenBody(n)))
    const error = await failure(authenticate(KEY, { fetch, signal: { aborted: false } }))
    assert.instance(error, TypeError)
    assert.match(error.message, /\bsignal\b/, error.message)
    assert.not.match(error.message, /is not a function/, 'an argument check, not a crash')
    assert.is(requests.length, 0)
  },
)

gaps.run()

// ---------------------------------------------------------------------------------------------
const coded = suite('options: every argument TypeError carries its code')

const INVALID = 'ERR_INVALID_ARGUMENT'
const UNKNOWN = 'ERR_UNKNOWN_OPTION'
const SECRETISH = 'SECRET-LOOKING-VALUE-0123'

/** Each call of the core with one bad argument: [call, code, the argument its message names]. */
const argumentCases = (fetch, session) => [
  [() => authenticate('', { fetch }), INVALID, 'apiKey'],
  [() => authenticate(`${SECRETISH}\n`, { fetch }), INVALID, 'apiKey'],
  [() => authenticate(KEY, 'https://ws.api.video'), INVALID, 'options'],
  [() => authenticate(KEY, { fetch, timeout: 0 }), INVALID, 'timeout'],
  [() => authenticate(KEY, { fetch, signal: {} }), INVALID, 'signal'],
  [() => authenticate(KEY, { fetch, baseUrl: 'http://example.com' }), INVALID, 'baseUrl'],
  [() => authenticate(KEY, { fetch, baseURL: SECRETISH }), UNKNOWN, 'baseURL'],
  [() => refresh(42, { fetch }), INVALID, 'refreshToken'],
  [() => refresh('refresh-1', { fetch: 'fetch' }), INVALID, 'fetch'],
  [() => refresh('refresh-1', { fetch, Timeout: SECRETISH }), UNKNOWN, 'Timeout'],
  [() => authenticateRequest(undefined), INVALID, 'apiKey'],
  [() => authenticateRequest(KEY, { baseUrl: `https://ws.api.video/?k=${SECRETISH}` }), INVALID, 'baseUrl'],
  [() => authenticateRequest(KEY, { headers: [['bad header', SECRETISH]] }), INVALID, 'headers'],
  [() => authenticateRequest(KEY, null), INVALID, 'options'],
  [() => refreshRequest(` ${SECRETISH}`), INVALID, 'refreshToken'],
  [() => refreshRequest('refresh-1', { HEADERS: SECRETISH }), UNKNOWN, 'HEADERS'],
  [() => readAccessToken({}, { endpoint: 'api-key' }), INVALID, 'response'],
  [() => readAccessToken(json(200, tokenBody())), INVALID, 'endpoint'],
  [() => readAccessToken(json(200, tokenBody()), { endpoint: SECRETISH }), INVALID, 'endpoint'],
  [() => readAccessToken(json(200, tokenBody()), { endpoint: 'refresh', sentAt: 'now' }), INVALID, 'sentAt'],
  [() => readAccessToken(json(200, tokenBody()), { endpoint: 'refresh', sentAtMs: 1 }), UNKNOWN, 'sentAtMs'],
  [() => createSession('key'), INVALID, 'options'],
  [() => createSession({ apiKey: 918273645 }), INVALID, 'apiKey'],
  [() => createSession({ apiKey: KEY, fetch, baseUrl: 42 }), INVALID, 'baseUrl'],
  [() => createSession({ apiKey: KEY, fetch, baseUrl: null }), INVALID, 'baseUrl'],
  [() => createSession({ apiKey: KEY, fetch, timeout: -1 }), INVALID, 'timeout'],
  [() => createSession({ apiKey: KEY, fetch, refreshMargin: NaN }), INVALID, 'refreshMargin'],
  [() => createSession({ apiKey: KEY, fetch, retries: 1.5 }), INVALID, 'retries'],
  [() => createSession({ apiKey: KEY, fetch, now: Date.now() }), INVALID, 'now'],
  [() => createSession({ apiKey: KEY, fetch, onEvent: console }), INVALID, 'onEvent'],
  [() => createSession({ apiKey: KEY, fetch, share: {} }), INVALID, 'share'],
  [() => createSession({ apiKey: KEY, fetch, headers: 42 }), INVALID, 'headers'],
  [() => createSession({ apiKey: KEY, fetch, retry: 1 }), UNKNOWN, 'retry'],
  [() => createSession({ apiKey: KEY, fetch, now: () => NaN }).token(), INVALID, 'now'],
  [() => session.token('force'), INVALID, 'options'],
  [() => session.token({ signal: { aborted: false } }), INVALID, 'signal'],
  [() => session.token({ force: true }), UNKNOWN, 'force'],
  [() => session.tokenWithExpiry({ forcerefresh: true }), UNKNOWN, 'forcerefresh'],
  [() => session.authorization({ signal: 'stop' }), INVALID, 'signal'],
  [() => session.authorization({ forceRefresh: true }), UNKNOWN, 'forceRefresh'],
  [() => session.fetch('videos'), INVALID, 'input'],
  [() => session.fetch('https://evil.example/videos'), INVALID, 'input'],
  [() => session.fetch(`https://${SECRETISH}:@ws.api.video/videos`), INVALID, 'input'],
  [() => session.fetch('/videos', 'GET'), INVALID, 'init'],
  [() => session.invalidate(123), INVALID, 'token'],
]

coded('each bad argument of the core: a TypeError with its code, naming the argument, never its value', async () => {
  const { fetch, requests } = recorder()
  const session = createSession({ apiKey: KEY, fetch })
  const cases = argumentCases(fetch, session)
  for (const [index, [call, code, name]] of cases.entries()) {
    const where = `case ${index + 1}: ${call.toString().slice(6, 90)}`
    const error = await thrownBy(call)
    assertArgumentError(error, name, code, where)
    assert.not.match(error.message, SECRETISH, where)
  }
  assert.ok(cases.length >= 40, `${cases.length} cases`)
  await settle()
  assert.is(requests.length, 0, 'nothing was sent')
})

coded(
  'the messages say what to do: a path starts with /, a key comes from an option or the environment',
  async () => {
    const session = createSession({ apiKey: KEY, fetch: recorder().fetch })
    const path = await thrownBy(() => session.fetch('videos'))
    assert.match(path.message, 'a path starting with /')
    const restore = clearEnvironment('APIVIDEO_API_KEY')
    try {
      const missing = await thrownBy(() => createSession())
      assert.is(missing.code, 'ERR_MISSING_API_KEY')
      assert.match(missing.message, /\bapiKey\b.*APIVIDEO_API_KEY/)
    } finally {
      restore()
    }
  },
)

coded.run()
