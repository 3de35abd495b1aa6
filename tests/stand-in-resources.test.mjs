import { request as httpRequest } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, createSession } from '../dist/index.js'
import { createStandIn } from '../dist/testing.js'
import { exec } from '../scripts/exec.mjs'
import { KEY, clock, serve } from './helpers.mjs'
import { openapi, violations } from './openapi.mjs'

const API = 'https://ws.api.video'
const START = Date.parse('2026-01-05T08:00:00Z')
const basic = `Basic ${btoa(`${KEY}:`)}`

/** A stand-in on a fake clock, and a `call(method, path, body?)` that sends JSON with Basic credentials. */
function setUp(options = {}) {
  const time = clock(START)
  const standIn = createStandIn({ now: time.now, ...options })
  const call = async (method, path, body, headers = {}) => {
    const init = { method, headers: { authorization: basic, ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      init.headers['content-type'] ??= 'application/json'
    }
    const response = await standIn.fetch(API + path, init)
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined }
  }
  return { standIn, time, call }
}

/** A multipart upload with a delegated token and no Authorization, as a browser sends it. */
function upload(standIn, token, { name = 'clip.mp4', field = 'file', videoId } = {}) {
  const form = new FormData()
  form.append(field, new Blob([new Uint8Array(1000)], { type: 'video/mp4' }), name)
  if (videoId) form.append('videoId', videoId)
  const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`
  return standIn.fetch(`${API}/upload${query}`, { method: 'POST', body: form })
}

const example400 = openapi.paths['/videos'].post.responses['400'].content['application/json'].examples.response.value

const videos = suite('stand-in: videos')

videos('POST creates a video in api.video shape; GET lists it, then reads, updates and deletes it', async () => {
  const { call, time } = setUp()
  const created = await call('POST', '/videos', { title: 'Maths', tags: ['a'], metadata: [{ key: 'k', value: 'v' }] })
  assert.is(created.status, 201)
  assert.equal(violations(created.body, 'video'), [])
  const { videoId } = created.body
  assert.match(videoId, /^vi[A-Za-z0-9]{22}$/)
  assert.equal(
    [created.body.title, created.body.createdAt, created.body.tags, created.body.public, created.body.source],
    ['Maths', '2026-01-05T08:00:00+00:00', ['a'], true, { uri: `/videos/${videoId}/source` }],
  )
  assert.is(created.body.assets.hls, `https://cdn.api.video/vod/${videoId}/hls/manifest.m3u8`)

  const list = await call('GET', '/videos')
  assert.equal(violations(list.body, 'videos-list-response'), [])
  assert.equal(list.body.data, [created.body])
  assert.equal([list.body.pagination.itemsTotal, list.body.pagination.currentPageItems], [1, 1])

  time.tick(60_000)
  const patched = await call('PATCH', `/videos/${videoId}`, { title: 'Physics', public: false, playerId: 'pl1' })
  assert.is(patched.status, 200)
  assert.equal(violations(patched.body, 'video'), [])
  assert.equal(
    [patched.body.title, patched.body.public, patched.body.playerId, patched.body.updatedAt, patched.body.createdAt],
    ['Physics', false, 'pl1', '2026-01-05T08:01:00+00:00', '2026-01-05T08:00:00+00:00'],
  )
  assert.equal((await call('GET', `/videos/${videoId}`)).body, patched.body)
  const unset = await call('PATCH', `/videos/${videoId}`, { playerId: null, mp4Support: false })
  assert.equal(['playerId' in unset.body, 'mp4' in unset.body.assets], [false, false])

  assert.equal(await call('DELETE', `/videos/${videoId}`), { status: 204, body: undefined })
  const gone = await call('GET', `/videos/${videoId}`)
  assert.equal(gone, {
    status: 404,
    body: {
      type: 'https://docs.api.video/reference/resource-not-found',
      title: 'The requested resource was not found.',
      name: 'videoId',
      status: 404,
    },
  })
  assert.equal(violations(gone.body, 'not-found'), [])
  for (const method of ['PATCH', 'DELETE']) assert.is((await call(method, `/videos/${videoId}`, {})).status, 404)
  assert.equal((await call('GET', '/videos')).body.data, [])
})

videos('a body the API does not take gets its 400 problem body, and creates nothing', async () => {
  const { call } = setUp()
  const missing = await call('POST', '/videos', { tags: 'maths', metadata: {} })
  assert.is(missing.status, 400)
  assert.equal(violations(missing.body, 'bad-request'), [])
  // The same shape as the OpenAPI example: the first problem at the top, every problem in `problems`.
  assert.equal(Object.keys(missing.body).sort(), Object.keys(example400).sort())
  assert.equal(missing.body.problems.slice(0, 2), [example400.problems[0], example400.problems[2]])
  assert.equal([missing.body.type, missing.body.name, missing.body.status], [example400.type, 'title', 400])
  assert.equal(
    missing.body.problems.map((p) => p.name),
    ['title', 'tags', 'metadata'],
  )
  const wrong = {
    title: 1,
    description: [],
    public: 'yes',
    panoramic: 1,
    mp4Support: null,
    playerId: null,
    language: 'xx',
    transcriptSummaryAttributes: ['all'],
    clip: 'x',
  }
  const invalid = await call('POST', '/videos', wrong)
  assert.equal(
    invalid.body.problems.map((p) => [p.type.split('/').pop(), p.name]),
    Object.keys(wrong).map((name) => ['invalid-attribute', name]),
  )
  assert.is((await call('POST', '/videos', '{"title":')).status, 400)
  assert.is((await call('POST', '/videos', '["title"]')).status, 400)
  const text = await call('POST', '/videos', 'title=x', { 'content-type': 'application/x-www-form-urlencoded' })
  assert.is(text.status, 400)
  assert.match(text.body.title, /content type/)
  const created = await call('POST', '/videos', { title: 'ok' })
  const patch = await call('PATCH', `/videos/${created.body.videoId}`, { title: 2, tags: [1] })
  assert.equal([patch.status, patch.body.problems.map((p) => p.name)], [400, ['title', 'tags']])
  assert.equal(
    (await call('GET', '/videos')).body.data.map((v) => v.title),
    ['ok'],
  )
})

videos('lists page by page, filter by title and tags, and sort as asked', async () => {
  const { call, time } = setUp()
  for (let i = 1; i <= 30; i++) {
    await call('POST', '/videos', { title: `video ${String(i).padStart(2, '0')}`, tags: i % 2 ? ['odd'] : [] })
    time.tick(1000)
  }
  const first = (await call('GET', '/videos')).body
  const second = (await call('GET', '/videos?currentPage=2&pageSize=25')).body
  assert.equal(violations(second, 'videos-list-response'), [])
  assert.equal([first.data.length, second.data.length, second.data[0].title], [25, 5, 'video 26'])
  assert.equal(
    [second.pagination.pagesTotal, second.pagination.itemsTotal, second.pagination.currentPageItems],
    [2, 30, 5],
  )
  assert.equal(
    first.pagination.links.map((l) => l.rel),
    ['self', 'first', 'next', 'last'],
  )
  assert.equal(
    second.pagination.links.map((l) => [l.rel, l.uri]),
    [
      ['self', `${API}/videos?currentPage=2&pageSize=25`],
      ['first', `${API}/videos?currentPage=1&pageSize=25`],
      ['previous', `${API}/videos?currentPage=1&pageSize=25`],
      ['last', `${API}/videos?currentPage=2&pageSize=25`],
    ],
  )
  assert.is((await call('GET', '/videos?title=video%203')).body.pagination.itemsTotal, 1)
  assert.is((await call('GET', '/videos?tags[]=odd')).body.pagination.itemsTotal, 15)
  const sorted = (await call('GET', '/videos?sortBy=title&sortOrder=desc&pageSize=2')).body.data
  assert.equal(
    sorted.map((v) => v.title),
    ['video 30', 'video 29'],
  )
  assert.is((await call('GET', '/videos?sortBy=size')).status, 400)
})

videos('needs credentials, as every api.video resource; faults apply to its paths', async () => {
  const { standIn, call } = setUp()
  const anonymous = await standIn.fetch(`${API}/videos`, { method: 'POST', body: '{"title":"x"}' })
  assert.is(anonymous.status, 401)
  const { accessToken } = await authenticate(KEY, { fetch: standIn.fetch })
  const session = createSession({ apiKey: KEY, fetch: standIn.fetch })
  const bearer = await standIn.fetch(`${API}/videos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: '{"title":"with a token"}',
  })
  assert.is(bearer.status, 201)
  standIn.fail('/videos', { status: 503 })
  assert.is((await session.fetch('/videos')).status, 503)
  assert.equal((await (await session.fetch('/videos')).json()).data.length, 1)
  assert.is((await call('GET', '/videos')).status, 200)
})

videos.run()

const tokens = suite('stand-in: delegated upload tokens')

tokens('POST /upload-tokens mints a token; GET reads and lists it; DELETE revokes it', async () => {
  const { call, time } = setUp()
  const minted = await call('POST', '/upload-tokens', { ttl: 3600 })
  assert.is(minted.status, 200)
  assert.equal(violations(minted.body, 'upload-token'), [])
  assert.match(minted.body.token, /^to[A-Za-z0-9]{22}$/)
  assert.equal(minted.body, {
    token: minted.body.token,
    ttl: 3600,
    createdAt: '2026-01-05T08:00:00+00:00',
    expiresAt: '2026-01-05T09:00:00+00:00',
  })
  time.tick(1000)
  const forever = await call('POST', '/upload-tokens', {})
  assert.equal([forever.body.ttl, 'expiresAt' in forever.body], [0, false])
  assert.equal((await call('GET', `/upload-tokens/${minted.body.token}`)).body, minted.body)
  const list = (await call('GET', '/upload-tokens?sortBy=createdAt&sortOrder=desc')).body
  assert.equal(violations(list, 'token-list-response'), [])
  assert.equal(list.data, [forever.body, minted.body])
  assert.equal(await call('DELETE', `/upload-tokens/${minted.body.token}`), { status: 204, body: undefined })
  const gone = await call('GET', `/upload-tokens/${minted.body.token}`)
  assert.equal([gone.status, gone.body.name], [404, 'uploadToken'])
  assert.equal(violations(gone.body, 'not-found'), [])
  assert.is((await call('DELETE', `/upload-tokens/${minted.body.token}`)).status, 404)
  for (const ttl of [-1, 1.5, '60', 2_147_483_648]) {
    const refused = await call('POST', '/upload-tokens', { ttl })
    assert.equal([refused.status, refused.body.name, refused.body.problems.length], [400, 'ttl', 1], String(ttl))
  }
  assert.is((await call('POST', '/upload-tokens', { ttl: 2_147_483_647 })).status, 200)
})

tokens('POST /upload with a token and a multipart file, no Authorization, creates a video', async () => {
  const { standIn, call } = setUp()
  const { token } = (await call('POST', '/upload-tokens', { ttl: 60 })).body
  const response = await upload(standIn, token)
  assert.is(response.status, 201)
  const video = await response.json()
  assert.equal(violations(video, 'video'), [])
  assert.match(video.videoId, /^vi[A-Za-z0-9]{22}$/)
  assert.equal([video.title, video.source.type], ['clip.mp4', 'upload'])
  // A later chunk names its video; the official Node client names the part after the file.
  const chunk = await upload(standIn, token, { field: 'clip.mp4', videoId: video.videoId })
  assert.equal([chunk.status, (await chunk.json()).videoId], [201, video.videoId])
  assert.equal((await call('GET', '/videos')).body.data, [video])
  const uploads = standIn.requests.filter((r) => r.path === '/upload')
  assert.equal(
    uploads.map((r) => [r.method, r.credential, r.carriedApiKey]),
    [
      ['POST', 'none', false],
      ['POST', 'none', false],
    ],
  )
})

tokens(
  'an unknown, expired or deleted token is refused with a 400 naming the token; so is a missing file',
  async () => {
    const { standIn, call, time } = setUp()
    const refusal = async (response) => {
      const body = await response.json()
      assert.equal(violations(body, 'bad-request'), [])
      return [response.status, body.type.split('/').pop(), body.name]
    }
    const invalidToken = [400, 'invalid-attribute', 'token']
    assert.equal(await refusal(await upload(standIn, 'to0000000000000000000000')), invalidToken)
    assert.equal(await refusal(await upload(standIn, undefined)), [400, 'attribute-required', 'token'])
    const short = (await call('POST', '/upload-tokens', { ttl: 60 })).body.token
    const deleted = (await call('POST', '/upload-tokens', { ttl: 0 })).body.token
    assert.is((await upload(standIn, short)).status, 201)
    time.tick(59_999)
    assert.is((await upload(standIn, short)).status, 201)
    time.tick(1)
    assert.equal(await refusal(await upload(standIn, short)), invalidToken)
    assert.is((await call('GET', `/upload-tokens/${short}`)).status, 404)
    await call('DELETE', `/upload-tokens/${deleted}`)
    assert.equal(await refusal(await upload(standIn, deleted)), invalidToken)
    const live = (await call('POST', '/upload-tokens', {})).body.token
    const noFile = await standIn.fetch(`${API}/upload?token=${live}`, { method: 'POST', body: new FormData() })
    assert.equal(await refusal(noFile), [400, 'attribute-required', 'file'])
    const notMultipart = await standIn.fetch(`${API}/upload?token=${live}`, { method: 'POST', body: 'bytes' })
    assert.equal(await refusal(notMultipart), [400, 'attribute-required', 'file'])
    const unknownVideo = await upload(standIn, live, { videoId: 'vi0000000000000000000000' })
    assert.equal([unknownVideo.status, (await unknownVideo.json()).name], [404, 'videoId'])
    assert.is((await call('GET', '/videos')).body.pagination.itemsTotal, 2)
  },
)

tokens.run()

const bodies = suite('stand-in: request bodies')

/** A body of `total` bytes in `chunk`-byte pieces that counts what was pulled from it. */
function countedBody(total, chunk = 64 * 1024) {
  const prefix = new TextEncoder().encode(`{"apiKey":"${KEY}","pad":"`)
  let pulled = 0
  const stream = new ReadableStream(
    {
      pull(controller) {
        if (pulled >= total) return controller.close()
        const piece = new Uint8Array(Math.min(chunk, total - pulled)).fill(0x61)
        if (pulled === 0) piece.set(prefix)
        pulled += piece.byteLength
        controller.enqueue(piece)
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, pulled: () => pulled }
}

bodies('handler() refuses a body over 1 MiB with 413, having pulled at most 1 MiB and one chunk of it', async () => {
  const standIn = createStandIn()
  const body = countedBody(64 * 1024 * 1024)
  const request = new Request(`${API}/auth/api-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body.stream,
    duplex: 'half',
  })
  const response = await standIn.handler(request)
  assert.equal(
    [response.status, await response.json()],
    [413, { type: 'about:blank', title: 'The request body is over 1 MiB.', status: 413 }],
  )
  assert.ok(body.pulled() <= 1024 * 1024 + 64 * 1024, `pulled ${body.pulled()} bytes`)
  assert.is(standIn.counts.auth, 1)
  assert.is(standIn.counts.carriedApiKey, 0)
})

bodies('a declared length over 1 MiB is refused before a byte is read; 1 MiB exactly is read', async () => {
  const standIn = createStandIn()
  const body = countedBody(2 * 1024 * 1024)
  const declared = new Request(`${API}/videos`, {
    method: 'POST',
    headers: { 'content-length': String(2 * 1024 * 1024) },
    body: body.stream,
    duplex: 'half',
  })
  assert.is((await standIn.handler(declared)).status, 413)
  assert.is(body.pulled(), 0)
  const json = `{"apiKey":"${KEY}","pad":"${'a'.repeat(1024 * 1024 - 22 - KEY.length)}"}`
  assert.is(new TextEncoder().encode(json).byteLength, 1024 * 1024)
  const exact = await standIn.fetch(`${API}/auth/api-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: json,
  })
  assert.is(exact.status, 200)
  const over = await standIn.fetch(`${API}/auth/api-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `${json} `,
  })
  assert.is(over.status, 413)
})

bodies.run()

const control = suite('stand-in: control routes over HTTP')

const CLI = new URL('../dist/cli.js', import.meta.url).pathname

/** Steers a stand-in served at `url` as a test in another language would: plain HTTP, JSON bodies. */
async function steer(url) {
  const send = (method, path, body, headers = {}) =>
    fetch(url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const authenticate = () => send('POST', '/auth/api-key', { apiKey: KEY })
  assert.is((await (await authenticate()).json()).expires_in, 120, 'the --expires-in lifetime')
  assert.is((await send('POST', '/_stand-in/expires-in', { expiresIn: 30 })).status, 204)
  const { access_token: token } = await (await authenticate()).json()
  const bearer = { authorization: `Bearer ${token}` }
  assert.is((await send('GET', '/videos', undefined, bearer)).status, 200)

  const faults = [{ status: 503 }, { networkError: true }]
  assert.is((await send('POST', '/_stand-in/fail', { path: '/auth/api-key', faults })).status, 204)
  assert.is((await authenticate()).status, 503)
  assert.instance(await authenticate().catch((error) => error), TypeError, 'a dropped connection')
  assert.is((await (await authenticate()).json()).expires_in, 30)

  assert.is((await send('POST', '/_stand-in/revoke')).status, 204)
  assert.is((await send('GET', '/videos', undefined, bearer)).status, 401)

  const report = await (await send('GET', '/_stand-in/requests')).json()
  assert.equal(
    report.requests.map((r) => `${r.method} ${r.path} ${r.credential}`),
    [
      'POST /auth/api-key api-key',
      'POST /auth/api-key api-key',
      'GET /videos bearer',
      'POST /auth/api-key api-key',
      'POST /auth/api-key api-key',
      'POST /auth/api-key api-key',
      'GET /videos bearer',
    ],
  )
  assert.equal([report.counts.requests, report.counts.auth, report.counts.carriedApiKey], [7, 5, 5])

  const refused = async (response) => [response.status, (await response.json()).title]
  assert.equal(await refused(await send('POST', '/_stand-in/fail', { path: 'videos', faults: [] })), [
    400,
    'path must be a string starting with "/", with no query or hash',
  ])
  assert.is((await send('POST', '/_stand-in/fail', { path: '/videos', faults: [{ status: 99 }] })).status, 400)
  assert.is((await send('POST', '/_stand-in/fail', { path: '/videos' })).status, 400)
  assert.is((await send('POST', '/_stand-in/expires-in', { expiresIn: 0 })).status, 400)
  assert.is((await send('GET', '/_stand-in/unknown')).status, 404)
  const page = await send('POST', '/_stand-in/revoke', undefined, { origin: 'https://attacker.example' })
  assert.equal(await refused(page), [403, 'The control routes answer loopback clients only, never a web page.'])
  assert.is(await rebound(url), 403)
}

/** A request through DNS rebinding: the loopback address, with another site's name in `Host`. */
function rebound(url) {
  return new Promise((resolve, reject) => {
    const { port } = new URL(url)
    const options = {
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/_stand-in/revoke',
      headers: { host: 'evil.example' },
    }
    httpRequest(options, (response) => {
      response.resume()
      resolve(response.statusCode)
    })
      .on('error', reject)
      .end()
  })
}

control(
  'the CLI stand-in takes --expires-in, and is steered over HTTP: lifetime, faults, revoke, requests',
  async () => {
    let scenario
    const result = await exec(process.execPath, [CLI, 'stand-in', '--port', '0', '--expires-in', '120'], {
      env: { APIVIDEO_API_KEY: undefined },
      timeout: 20_000,
      onStdout: (stdout, child) => {
        const found = /^api\.video stand-in: (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout)
        if (found && !scenario) scenario = steer(found[1]).finally(() => child.kill('SIGTERM'))
      },
    })
    await scenario
    assert.is(result.code, 0, result.stderr)
    assert.match(result.stdout, / POST \/_stand-in\/revoke 204\n/)
  },
)

control('--expires-in takes whole seconds, 1 or more', async () => {
  for (const value of ['0', '-5', '1.5', 'soon', '']) {
    const result = await exec(process.execPath, [CLI, 'stand-in', `--expires-in=${value}`], { timeout: 10_000 })
    assert.is(result.code, 2, value)
    assert.match(result.stderr, /--expires-in must be a whole number of seconds/)
  }
})

control('off by default; on, they answer a loopback URL only and never count as requests', async () => {
  const off = createStandIn()
  assert.is((await off.fetch(`${API}/_stand-in/revoke`, { method: 'POST' })).status, 401)
  assert.is(off.counts.requests, 1)
  const on = createStandIn({ controlRoutes: true })
  assert.is((await on.fetch(`${API}/_stand-in/revoke`, { method: 'POST' })).status, 403)
  const server = await serve(on.handler)
  try {
    assert.is((await fetch(`${server.url}/_stand-in/requests`)).status, 200)
    assert.is(on.counts.requests, 0)
  } finally {
    await server.close()
  }
  // Every argument error carries a code, and names the argument, never its value.
  const codeOf = (run) => {
    try {
      run()
    } catch (error) {
      assert.instance(error, TypeError)
      return [error.code, error.message.split(' ')[0]]
    }
    return 'did not throw'
  }
  assert.equal(
    codeOf(() => createStandIn({ controlRoutes: 'yes' })),
    ['ERR_INVALID_ARGUMENT', 'controlRoutes'],
  )
  assert.equal(
    codeOf(() => createStandIn({ expiresIn: -1 })),
    ['ERR_INVALID_ARGUMENT', 'expiresIn'],
  )
  assert.equal(
    codeOf(() => createStandIn({ controlroutes: true })),
    ['ERR_UNKNOWN_OPTION', 'unknown'],
  )
  assert.equal(
    codeOf(() => on.fail('videos')),
    ['ERR_INVALID_ARGUMENT', 'path'],
  )
  assert.equal(
    codeOf(() => on.fail('/videos', { status: 1 })),
    ['ERR_INVALID_ARGUMENT', 'faults'],
  )
})

control.run()
