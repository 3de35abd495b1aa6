// Private delivery on the stand-in (a private video's tokens, the delivery origins' routes, viewer sessions), and
// privateVideo (apivideo-auth/private) played on it, through standIn.fetch and over HTTP on loopback.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSession } from '../../dist/index.js'
import { privateVideo } from '../../dist/private.js'
import { createStandIn } from '../../dist/testing.js'
import { KEY, clock, failure, serve } from '../helpers/index.mjs'

const BASIC = { authorization: `Basic ${btoa(`${KEY}:`)}` }
const JSON_BODY = { ...BASIC, 'content-type': 'application/json' }
const DAY = 24 * 3600_000
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

/** A stand-in with one video, and a `call` of its API with the key's Basic credentials. */
async function withVideo(attributes = { public: false }, options = {}) {
  const standIn = createStandIn({ apiKeys: [KEY], ...options })
  const call = async (path, init = {}) => {
    const response = await standIn.fetch(`https://ws.api.video${path}`, { headers: BASIC, ...init })
    return response.json()
  }
  const video = await call('/videos', {
    method: 'POST',
    headers: JSON_BODY,
    body: JSON.stringify({ title: 'Private', ...attributes }),
  })
  return { standIn, call, videoId: video.videoId, created: video }
}

/** The token of a private video's assets, from the player URL: the one FACTS.md's shapes put there. */
const tokenOf = (assets) => new URL(assets.player).searchParams.get('token')
const status = async (standIn, url) => (await standIn.fetch(url)).status

const delivery = suite('stand-in: private delivery')

delivery('a private video: each GET carries a new token, in the URL shapes api.video answers', async () => {
  const { call, videoId } = await withVideo()
  const [one, two] = [(await call(`/videos/${videoId}`)).assets, (await call(`/videos/${videoId}`)).assets]
  assert.is.not(tokenOf(one), tokenOf(two))
  for (const assets of [one, two]) {
    const token = tokenOf(assets)
    assert.match(token, new RegExp(`^${UUID}$`))
    const vod = `https://vod.api.video/vod/${videoId}/token/${token}`
    assert.is(assets.player, `https://embed.api.video/vod/${videoId}?token=${token}`)
    assert.is(assets.hls, `${vod}/hls/manifest.m3u8`)
    assert.is(assets.thumbnail, `${vod}/thumbnail.jpg`)
    assert.is(assets.mp4, `${vod}/mp4/source.mp4`)
    assert.ok(assets.iframe.includes(`src="${assets.player}"`))
  }
})

delivery('every answer of a private video carries a new token: creation, list, update', async () => {
  const { call, videoId, created } = await withVideo()
  const listed = (await call('/videos')).data[0]
  const updated = await call(`/videos/${videoId}`, {
    method: 'PATCH',
    headers: JSON_BODY,
    body: JSON.stringify({ title: 'Renamed' }),
  })
  const tokens = [created, listed, updated].map((video) => tokenOf(video.assets))
  assert.is(new Set(tokens).size, 3)
  assert.ok(tokens.every((token) => token))
})

delivery('a token plays once: the same asset again, or another asset of it, is a 404', async () => {
  const { standIn, call, videoId } = await withVideo()
  const { assets } = await call(`/videos/${videoId}`)
  const hls = await standIn.fetch(assets.hls)
  assert.is(hls.status, 200)
  assert.is(hls.headers.get('content-type'), 'application/vnd.apple.mpegurl')
  assert.match(await hls.text(), /^#EXTM3U/)
  assert.is(await status(standIn, assets.hls), 404)
  assert.is(await status(standIn, assets.thumbnail), 404)
  assert.is(await status(standIn, assets.player), 404)
  // Each asset plays on a token of its own.
  for (const name of ['player', 'thumbnail', 'mp4']) {
    const fresh = (await call(`/videos/${videoId}`)).assets
    assert.is(await status(standIn, fresh[name]), 200, name)
  }
})

delivery('a session: its avh plays every asset of its token, for 24 hours on the stand-in clock', async () => {
  const time = clock()
  const { standIn, call, videoId } = await withVideo({ public: false }, { now: time.now })
  const { assets } = await call(`/videos/${videoId}`)
  const token = tokenOf(assets)
  const started = await standIn.fetch(`https://vod.api.video/vod/${videoId}/token/${token}/session`)
  assert.is(started.status, 200)
  const { session_token: avh, ...rest } = await started.json()
  assert.type(avh, 'string')
  assert.equal(rest, {})
  const withAvh = (url) => {
    const u = new URL(url)
    u.searchParams.set('avh', avh)
    return u.href
  }
  for (const name of ['thumbnail', 'player', 'mp4', 'hls', 'hls'])
    assert.is(await status(standIn, withAvh(assets[name])), 200)
  // Without avh, the token is spent: it went to the session.
  assert.is(await status(standIn, assets.thumbnail), 404)
  // A second session of the same token, an avh on another token, a made-up avh: 404.
  assert.is(await status(standIn, `https://vod.api.video/vod/${videoId}/token/${token}/session`), 404)
  const other = (await call(`/videos/${videoId}`)).assets
  assert.is(await status(standIn, withAvh(other.thumbnail)), 404)
  assert.is(await status(standIn, `${assets.hls}?avh=made-up`), 404)
  time.tick(DAY - 1)
  assert.is(await status(standIn, withAvh(assets.mp4)), 200)
  time.tick(1)
  assert.is(await status(standIn, withAvh(assets.mp4)), 404, 'a session lives 24 hours')
})

delivery('a played token starts no session; an unknown or foreign token plays nothing', async () => {
  const { standIn, call, videoId } = await withVideo()
  const { assets } = await call(`/videos/${videoId}`)
  const token = tokenOf(assets)
  assert.is(await status(standIn, assets.thumbnail), 200)
  assert.is(await status(standIn, `https://vod.api.video/vod/${videoId}/token/${token}/session`), 404)
  const second = await withVideo()
  const foreign = (await second.call(`/videos/${second.videoId}`)).assets
  // The other video's token, on this video's path.
  assert.is(await status(second.standIn, foreign.hls.replace(second.videoId, videoId)), 404)
  assert.is(
    await status(standIn, `https://vod.api.video/vod/${videoId}/token/${crypto.randomUUID()}/thumbnail.jpg`),
    404,
  )
  assert.is(await status(standIn, `https://vod.api.video/vod/${videoId}/token/%E0%A4%A/thumbnail.jpg`), 404)
})

delivery('a public video keeps untokenized URLs, which play any number of times', async () => {
  const { standIn, call, videoId } = await withVideo({ public: true })
  const { assets } = await call(`/videos/${videoId}`)
  assert.is(assets.player, `https://embed.api.video/vod/${videoId}`)
  assert.is(assets.hls, `https://cdn.api.video/vod/${videoId}/hls/manifest.m3u8`)
  assert.not.match(JSON.stringify(assets), /token/)
  for (let i = 0; i < 3; i++) {
    assert.is(await status(standIn, assets.hls), 200)
    assert.is(await status(standIn, assets.player), 200)
  }
  // Made private, its answers carry tokens, and its untokenized URLs play no more.
  await call(`/videos/${videoId}`, { method: 'PATCH', headers: JSON_BODY, body: JSON.stringify({ public: false }) })
  assert.ok(tokenOf((await call(`/videos/${videoId}`)).assets))
  assert.is(await status(standIn, assets.hls), 404)
})

delivery('no MP4, no deleted video: their assets are a 404', async () => {
  const { standIn, call, videoId } = await withVideo({ public: false, mp4Support: false })
  const { assets } = await call(`/videos/${videoId}`)
  assert.is(assets.mp4, undefined)
  const token = tokenOf(assets)
  assert.is(await status(standIn, `https://vod.api.video/vod/${videoId}/token/${token}/mp4/source.mp4`), 404)
  assert.is(await status(standIn, assets.hls), 200)
  const fresh = (await call(`/videos/${videoId}`)).assets
  await standIn.fetch(`https://ws.api.video/videos/${videoId}`, { method: 'DELETE', headers: BASIC })
  assert.is(await status(standIn, fresh.thumbnail), 404)
})

delivery('the delivery origins answer delivery only; the record says which requests went there', async () => {
  const { standIn, call, videoId } = await withVideo()
  const { assets } = await call(`/videos/${videoId}`)
  assert.is(await status(standIn, 'https://vod.api.video/videos'), 404, 'the API is not on a delivery origin')
  assert.is(await status(standIn, `https://embed.api.video/vod/${videoId}`), 404, 'a private player without token')
  assert.is(await status(standIn, `https://ws.api.video/vod/${videoId}/token/x/other.bin`), 404, 'no such asset')
  await standIn.fetch(assets.thumbnail, { headers: { authorization: 'Bearer at.leaked' } })
  const delivered = standIn.requests.filter((r) => r.delivery)
  assert.equal(
    delivered.map((r) => [r.path, r.credential]),
    [
      ['/videos', 'none'],
      [`/vod/${videoId}`, 'none'],
      [`/vod/${videoId}/token/x/other.bin`, 'none'],
      [new URL(assets.thumbnail).pathname, 'bearer'],
    ],
  )
  assert.ok(standIn.requests.filter((r) => !r.delivery).every((r) => r.credential === 'basic'))
  assert.is(standIn.counts.delivery, 4)
})

delivery('over HTTP, the stand-in serves delivery on its own URL under the same paths', async () => {
  const { standIn, call, videoId } = await withVideo()
  const server = await serve(standIn.handler)
  try {
    const { assets } = await call(`/videos/${videoId}`)
    const local = (url) => new URL(new URL(url).pathname + new URL(url).search, server.url).href
    const token = tokenOf(assets)
    const started = await fetch(local(`https://vod.api.video/vod/${videoId}/token/${token}/session`))
    const { session_token: avh } = await started.json()
    assert.is((await fetch(`${local(assets.thumbnail)}?avh=${avh}`)).status, 200)
    assert.is((await fetch(`${local(assets.player)}&avh=${avh}`)).status, 200)
    const once = (await call(`/videos/${videoId}`)).assets
    assert.is((await fetch(local(once.hls))).status, 200)
    assert.is((await fetch(local(once.hls))).status, 404)
  } finally {
    await server.close()
  }
})

delivery.run()

const played = suite('privateVideo on the stand-in')

/** A session on a stand-in with one private video, and a fetch for the delivery origins that records each Request. */
async function viewerSetup(attributes) {
  const { standIn, videoId } = await withVideo(attributes)
  const sent = []
  const recording = async (input, init) => {
    const request = new Request(input, init)
    sent.push({ url: request.url, authorization: request.headers.get('authorization') })
    return standIn.fetch(request)
  }
  const session = createSession({ apiKey: KEY, fetch: recording })
  return { standIn, videoId, session, sent, fetch: recording }
}

played('a new token per call, inside its links; each plays once', async () => {
  const { standIn, videoId, session, fetch } = await viewerSetup()
  const [one, two] = [
    await privateVideo(session, videoId, { fetch }),
    await privateVideo(session, videoId, { fetch }),
  ]
  assert.ok(one.token && two.token)
  assert.is.not(one.token, two.token)
  for (const video of [one, two]) {
    for (const name of ['player', 'iframe', 'hls', 'mp4', 'thumbnail'])
      assert.ok(video[name].includes(video.token), name)
  }
  assert.is(await status(standIn, one.hls), 200)
  assert.is(await status(standIn, one.hls), 404)
  assert.is(await status(standIn, two.mp4), 200)
})

played('with sessionToken: true, a thumbnail and then the video play on one token', async () => {
  const { standIn, videoId, session, fetch } = await viewerSetup()
  const video = await privateVideo(session, videoId, { sessionToken: true, fetch })
  assert.type(video.sessionToken, 'string')
  assert.is(await status(standIn, video.thumbnail), 200)
  assert.is(await status(standIn, video.mp4), 200)
  assert.is(await status(standIn, video.hls), 200)
  assert.is(await status(standIn, video.player), 200)
})

played('a public video: links without a token, and no session started', async () => {
  const { standIn, videoId, session, fetch, sent } = await viewerSetup({ public: true })
  const video = await privateVideo(session, videoId, { sessionToken: true, fetch })
  assert.is(video.token, undefined)
  assert.not.ok('sessionToken' in video)
  assert.not.match(JSON.stringify(video), /token/)
  assert.is(standIn.counts.delivery, 0)
  assert.ok(sent.every((r) => new URL(r.url).origin === 'https://ws.api.video'))
})

played('no request outside the API origin carries Authorization', async () => {
  const { standIn, videoId, session, fetch, sent } = await viewerSetup()
  const video = await privateVideo(session, videoId, { sessionToken: true, fetch })
  await fetch(video.thumbnail)
  await fetch(video.mp4)
  const outside = sent.filter((r) => new URL(r.url).origin !== 'https://ws.api.video')
  assert.is(outside.length, 3)
  assert.ok(outside.every((r) => r.authorization === null))
  assert.ok(sent.filter((r) => r.url.includes('/videos/')).every((r) => r.authorization?.startsWith('Bearer ')))
  // The stand-in's own record says the same.
  const delivered = standIn.requests.filter((r) => r.delivery)
  assert.is(delivered.length, 3)
  assert.ok(delivered.every((r) => r.credential === 'none'))
})

played("privateVideo(session, '../auth/api-key') is a TypeError before any request", async () => {
  const { standIn, session, fetch } = await viewerSetup()
  const before = standIn.counts.requests
  const error = await failure(privateVideo(session, '../auth/api-key', { sessionToken: true, fetch }))
  assert.instance(error, TypeError)
  assert.is(error.code, 'ERR_INVALID_ARGUMENT')
  assert.is(standIn.counts.requests - before, 0)
})

played('a video the stand-in does not have is VIDEO_NOT_FOUND', async () => {
  const { session, fetch } = await viewerSetup()
  const error = await failure(privateVideo(session, 'vi0000000000000000000000', { fetch }))
  assert.is(error.code, 'VIDEO_NOT_FOUND')
  assert.is(error.status, 404)
})

played.run()
