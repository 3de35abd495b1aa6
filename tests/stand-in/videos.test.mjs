// The stand-in: videos kept in memory in the shapes of api.video's OpenAPI document.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authenticate, createSession } from '../../dist/index.js'
import { KEY } from '../helpers/index.mjs'
import { violations } from '../helpers/openapi.mjs'
import { API, example400, setUp } from '../helpers/stand-in.mjs'

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
  // The video as updated; its assets carry a new private token on each answer (stand-in/private-delivery.test.mjs).
  const { assets: read, ...readBack } = (await call('GET', `/videos/${videoId}`)).body
  const { assets: written, ...updated } = patched.body
  assert.equal(readBack, updated)
  assert.is.not(new URL(read.player).searchParams.get('token'), new URL(written.player).searchParams.get('token'))
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
