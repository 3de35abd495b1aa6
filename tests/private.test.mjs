// privateVideo (apivideo-auth/private) against doubles: a session whose fetch answers one scripted video, and a
// delivery fetch that records what it was sent. The stand-in-backed flow is in stand-in-private.test.mjs.
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isApiVideoAuthError } from '../dist/index.js'
import { privateVideo } from '../dist/private.js'
import { failure } from './helpers/index.mjs'

const VIDEO_ID = 'vi4blUQJFrYWbaG44NChkH27'
const TOKEN = '831a9bd9-9f50-464c-a369-8e9d914371ae'
const SESSION_TOKEN = 'avh-session-0123456789'
const VOD = `https://vod.api.video/vod/${VIDEO_ID}`

/** A video answer as api.video gives it: a private video's assets carry `token`, a public one's do not. */
function videoAnswer({ isPublic = false, token = TOKEN, mp4 = true } = {}) {
  const base = isPublic ? `https://cdn.api.video/vod/${VIDEO_ID}` : `${VOD}/token/${token}`
  const player = `https://embed.api.video/vod/${VIDEO_ID}${isPublic ? '' : `?token=${token}`}`
  return {
    videoId: VIDEO_ID,
    public: isPublic,
    assets: {
      iframe: `<iframe src="${player}" width="100%" height="100%" frameborder="0" scrolling="no"></iframe>`,
      player,
      hls: `${base}/hls/manifest.m3u8`,
      thumbnail: `${base}/thumbnail.jpg`,
      ...(mp4 ? { mp4: `${base}/mp4/source.mp4` } : {}),
    },
  }
}

const json = (status, body, headers = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })

/** A session double: its fetch answers `answer` (a Response or a function of the call) and records each call. */
function sessionAnswering(answer) {
  const calls = []
  return {
    calls,
    fetch: async (input, init) => {
      calls.push({ input, init })
      return typeof answer === 'function' ? answer(input, init) : answer.clone()
    },
  }
}

/** A delivery-origin double: answers `{ session_token }` (or `answer`), and records each Request it was sent. */
function deliveryAnswering(answer = json(200, { session_token: SESSION_TOKEN })) {
  const requests = []
  const fetch = async (request) => {
    requests.push(request)
    return answer.clone()
  }
  return { requests, fetch }
}

/** The error of a refusal, checked for what every refusal shares; never a token in it. */
async function refusal(promise, code, status) {
  const error = await failure(promise)
  assert.is(error.code, code, error.message)
  assert.is(error.name, 'ApiVideoAuthError')
  assert.ok(isApiVideoAuthError(error), 'isApiVideoAuthError recognises it')
  assert.is(error.status, status)
  for (const text of [error.message, error.stack, JSON.stringify(error), inspect(error)]) {
    assert.not.ok(text.includes(TOKEN), 'the private token is in the error')
    assert.not.ok(text.includes(SESSION_TOKEN), 'the session token is in the error')
  }
  return error
}

const links = suite('privateVideo links')

links('reads one GET /videos/{videoId} through the session, and puts its token in every link', async () => {
  const session = sessionAnswering(json(200, videoAnswer()))
  const delivery = deliveryAnswering()
  const video = await privateVideo(session, VIDEO_ID, { fetch: delivery.fetch })
  assert.equal(
    session.calls.map((c) => c.input),
    [`/videos/${VIDEO_ID}`],
  )
  assert.is(delivery.requests.length, 0, 'no session asked for, none started')
  assert.equal(video, {
    videoId: VIDEO_ID,
    public: false,
    token: TOKEN,
    player: `https://embed.api.video/vod/${VIDEO_ID}?token=${TOKEN}`,
    iframe:
      `<iframe src="https://embed.api.video/vod/${VIDEO_ID}?token=${TOKEN}" width="100%" height="100%" ` +
      'frameborder="0" scrolling="no" allowfullscreen=""></iframe>',
    hls: `${VOD}/token/${TOKEN}/hls/manifest.m3u8`,
    mp4: `${VOD}/token/${TOKEN}/mp4/source.mp4`,
    thumbnail: `${VOD}/token/${TOKEN}/thumbnail.jpg`,
  })
  assert.not.ok('sessionToken' in video)
})

links(
  'the token is read from the URLs, not assumed: another token in the answer is the one in the links',
  async () => {
    const other = 'f0e1d2c3-b4a5-4678-9abc-def012345678'
    const video = await privateVideo(sessionAnswering(json(200, videoAnswer({ token: other }))), VIDEO_ID)
    assert.is(video.token, other)
    for (const name of ['player', 'hls', 'mp4', 'thumbnail', 'iframe']) assert.ok(video[name].includes(other), name)
  },
)

links(
  'with sessionToken, starts the session at the delivery origin without credentials, avh in every link',
  async () => {
    const session = sessionAnswering(json(200, videoAnswer()))
    const delivery = deliveryAnswering()
    const video = await privateVideo(session, VIDEO_ID, { sessionToken: true, fetch: delivery.fetch })
    assert.is(delivery.requests.length, 1)
    const [sent] = delivery.requests
    assert.is(sent.method, 'GET')
    assert.is(sent.url, `${VOD}/token/${TOKEN}/session`)
    assert.equal([...sent.headers.keys()], [], 'no header at all, so no Authorization')
    assert.is(video.sessionToken, SESSION_TOKEN)
    assert.is(video.player, `https://embed.api.video/vod/${VIDEO_ID}?token=${TOKEN}&avh=${SESSION_TOKEN}`)
    assert.is(video.hls, `${VOD}/token/${TOKEN}/hls/manifest.m3u8?avh=${SESSION_TOKEN}`)
    assert.is(video.mp4, `${VOD}/token/${TOKEN}/mp4/source.mp4?avh=${SESSION_TOKEN}`)
    assert.is(video.thumbnail, `${VOD}/token/${TOKEN}/thumbnail.jpg?avh=${SESSION_TOKEN}`)
    assert.ok(video.iframe.includes(`?token=${TOKEN}&amp;avh=${SESSION_TOKEN}"`), 'the iframe attribute, in HTML')
  },
)

links('a public video: the links as api.video answered them, no token, no session even when asked', async () => {
  const answer = videoAnswer({ isPublic: true })
  const delivery = deliveryAnswering()
  const video = await privateVideo(sessionAnswering(json(200, answer)), VIDEO_ID, {
    sessionToken: true,
    fetch: delivery.fetch,
  })
  assert.is(delivery.requests.length, 0)
  assert.is(video.public, true)
  assert.is(video.token, undefined)
  assert.not.ok('sessionToken' in video)
  for (const name of ['player', 'hls', 'mp4', 'thumbnail']) assert.is(video[name], answer.assets[name], name)
  assert.not.match(JSON.stringify(video), /token=|\/token\//)
})

links('a video without MP4 has mp4 undefined', async () => {
  const video = await privateVideo(sessionAnswering(json(200, videoAnswer({ mp4: false }))), VIDEO_ID)
  assert.is(video.mp4, undefined)
  assert.ok(video.hls.includes(TOKEN))
})

links('the signal goes with both requests; an aborted one rejects with its reason', async () => {
  const controller = new AbortController()
  const session = sessionAnswering(json(200, videoAnswer()))
  const delivery = deliveryAnswering()
  await privateVideo(session, VIDEO_ID, { sessionToken: true, fetch: delivery.fetch, signal: controller.signal })
  assert.is(session.calls[0].init.signal, controller.signal)
  controller.abort(new Error('viewer left'))
  assert.ok(delivery.requests[0].signal.aborted, 'the delivery request follows the signal')
  const aborting = sessionAnswering(async (_, init) => {
    init.signal.throwIfAborted()
    return json(200, videoAnswer())
  })
  const error = await failure(privateVideo(aborting, VIDEO_ID, { signal: controller.signal }))
  assert.is(error.message, 'viewer left')
})

links('the delivery fetch defaults to globalThis.fetch, looked up at the call', async () => {
  const delivery = deliveryAnswering()
  const saved = globalThis.fetch
  globalThis.fetch = delivery.fetch
  try {
    await privateVideo(sessionAnswering(json(200, videoAnswer())), VIDEO_ID, { sessionToken: true })
  } finally {
    globalThis.fetch = saved
  }
  assert.is(delivery.requests.length, 1)
})

links.run()

const argumentsSuite = suite('privateVideo arguments')

argumentsSuite('an id that is not a video id is a TypeError before any request, naming videoId only', async () => {
  const session = sessionAnswering(json(200, videoAnswer()))
  const ids = [
    '../auth/api-key',
    `${VIDEO_ID}/source`,
    `${VIDEO_ID}?x=1`,
    `${VIDEO_ID}x`,
    'vi4blUQJFrYWbaG44NChkH2',
    'li4blUQJFrYWbaG44NChkH27',
    'vi4blUQJFrYWbaG44NChk%27',
    '',
    undefined,
    42,
  ]
  for (const id of ids) {
    const error = await failure(privateVideo(session, id))
    assert.instance(error, TypeError)
    assert.is(error.code, 'ERR_INVALID_ARGUMENT')
    assert.match(error.message, /^videoId must be/)
    if (typeof id === 'string' && id) assert.not.ok(error.message.includes(id), 'the value is in the message')
  }
  assert.is(session.calls.length, 0, 'nothing was sent')
})

argumentsSuite(
  'a session without fetch, bad options and unknown ones are coded TypeErrors; nothing sent',
  async () => {
    for (const session of [undefined, null, {}, { fetch: 'x' }]) {
      const error = await failure(privateVideo(session, VIDEO_ID))
      assert.is(error.code, 'ERR_INVALID_ARGUMENT')
      assert.match(error.message, /^session must be/)
    }
    const session = sessionAnswering(json(200, videoAnswer()))
    const unknown = await failure(privateVideo(session, VIDEO_ID, { sessiontoken: true }))
    assert.instance(unknown, TypeError)
    assert.is(unknown.code, 'ERR_UNKNOWN_OPTION')
    assert.is(unknown.message, 'unknown option sessiontoken (did you mean sessionToken?)')
    assert.is((await failure(privateVideo(session, VIDEO_ID, { ttl: 1 }))).message, 'unknown option ttl')
    const bad = [
      [null, /^options must be an object/],
      [{ sessionToken: 'yes' }, /^sessionToken must be a boolean/],
      [{ fetch: {} }, /^fetch must be a function/],
      [{ signal: {} }, /^signal must be an AbortSignal/],
    ]
    for (const [options, message] of bad) {
      const error = await failure(privateVideo(session, VIDEO_ID, options))
      assert.is(error.code, 'ERR_INVALID_ARGUMENT')
      assert.match(error.message, message)
    }
    assert.is(session.calls.length, 0)
  },
)

argumentsSuite.run()

const errors = suite('privateVideo errors')

errors('a refused GET /videos/{videoId}: one code per status, its body cancelled', async () => {
  const cases = [
    [404, 'VIDEO_NOT_FOUND', false],
    [401, 'INVALID_CREDENTIALS', false],
    [403, 'ACCESS_DENIED', false],
    [429, 'RATE_LIMITED', true],
    [500, 'SERVER_ERROR', true],
    [503, 'SERVER_ERROR', true],
    [418, 'UNEXPECTED_STATUS', false],
    [302, 'UNEXPECTED_STATUS', false],
  ]
  for (const [status, code, retryable] of cases) {
    let cancelled = false
    const body = new ReadableStream({ cancel: () => void (cancelled = true) })
    const session = sessionAnswering(() => new Response(body, { status }))
    const error = await refusal(privateVideo(session, VIDEO_ID), code, status)
    assert.is(error.retryable, retryable, code)
    assert.ok(error.message.includes(`GET /videos/${VIDEO_ID}`), error.message)
    assert.ok(cancelled, `the body of the ${status} was cancelled`)
  }
})

errors('a 429 says how long to wait, from X-RateLimit-Retry-After', async () => {
  const limited = sessionAnswering(json(429, {}, { 'x-ratelimit-retry-after': '37' }))
  assert.is((await refusal(privateVideo(limited, VIDEO_ID), 'RATE_LIMITED', 429)).retryAfter, 37)
  const silent = await refusal(privateVideo(sessionAnswering(json(429, {})), VIDEO_ID), 'RATE_LIMITED', 429)
  assert.not.ok('retryAfter' in silent)
})

errors('a malformed answer is INVALID_RESPONSE, never a crash', async () => {
  const answer = videoAnswer()
  const { assets } = answer
  const malformed = [
    'not json',
    'null',
    { ...answer, assets: undefined },
    { ...answer, assets: null },
    { ...answer, public: undefined },
    { ...answer, public: 'false' },
    { ...answer, assets: { ...assets, hls: undefined } },
    { ...answer, assets: { ...assets, player: 'not a url' } },
    { ...answer, assets: { ...assets, thumbnail: `http://vod.api.video/vod/${VIDEO_ID}/token/${TOKEN}/t.jpg` } },
    // A private video's asset without its token, in each place a token goes.
    { ...answer, assets: { ...assets, player: `https://embed.api.video/vod/${VIDEO_ID}` } },
    { ...answer, assets: { ...assets, hls: `${VOD}/hls/manifest.m3u8` } },
    { ...answer, assets: { ...assets, mp4: `${VOD}/token//mp4/source.mp4` } },
    { ...answer, assets: { ...assets, thumbnail: `https://vod.api.video/vod/viOther/token/${TOKEN}/thumbnail.jpg` } },
    { ...answer, assets: { ...assets, hls: `${VOD}/token/%E0%A4%A/hls/manifest.m3u8` } },
    // Two tokens in one answer: which one plays is unknown.
    { ...answer, assets: { ...assets, hls: `${VOD}/token/another-token/hls/manifest.m3u8` } },
  ]
  for (const body of malformed) {
    const error = await refusal(privateVideo(sessionAnswering(json(200, body)), VIDEO_ID), 'INVALID_RESPONSE')
    assert.is(error.retryable, false)
  }
  // A public video needs no token: the same assets without one are its links.
  const untokenized = { ...answer, public: true, assets: { ...assets, hls: `${VOD}/hls/manifest.m3u8` } }
  assert.is((await privateVideo(sessionAnswering(json(200, untokenized)), VIDEO_ID)).hls, `${VOD}/hls/manifest.m3u8`)
})

errors('the delivery origin refusing the session, or answering no session_token', async () => {
  const session = sessionAnswering(json(200, videoAnswer()))
  const cases = [
    [json(404, {}), 'UNEXPECTED_STATUS', 404],
    [json(429, {}, { 'x-ratelimit-retry-after': '5' }), 'RATE_LIMITED', 429],
    [json(502, {}), 'SERVER_ERROR', 502],
    [json(200, {}), 'INVALID_RESPONSE', undefined],
    [json(200, { session_token: '' }), 'INVALID_RESPONSE', undefined],
    [json(200, 'not json'), 'INVALID_RESPONSE', undefined],
  ]
  for (const [answer, code, status] of cases) {
    const delivery = deliveryAnswering(answer)
    const options = { sessionToken: true, fetch: delivery.fetch }
    const error = await refusal(privateVideo(session, VIDEO_ID, options), code, status)
    assert.ok(error.message.includes(VIDEO_ID), error.message)
  }
})

errors('a network failure rejects as fetch rejects', async () => {
  const broken = new TypeError('fetch failed')
  const session = sessionAnswering(json(200, videoAnswer()))
  const fetch = async () => {
    throw broken
  }
  assert.is(await failure(privateVideo(session, VIDEO_ID, { sessionToken: true, fetch })), broken)
})

errors.run()

const addOn = suite('private add-on')

addOn('is a separate entry: at run time it imports the shared helpers (internal/) only, never the core', () => {
  for (const [file, from] of [
    ['private.js', /from '(\.[^']+)'/g],
    ['private.cjs', /require\("(\.[^"]+)"\)/g],
  ]) {
    const code = readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8')
    const imported = [...code.matchAll(from)].map((match) => match[1])
    assert.ok(imported.length > 0, `${file} imports the shared helpers`)
    assert.ok(
      imported.every((path) => path.startsWith('./internal/')),
      `${file} imports ${imported.join(', ')}`,
    )
    assert.not.match(code, /import\(/, file)
  }
})

addOn.run()
