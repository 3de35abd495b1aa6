// Private delivery as api.video plays it: each answer of a private video carries a new single-use token in its asset
// URLs; the delivery origins' routes play a token once, or every asset of its viewer's `avh` session for 24 hours.
import { type Json, json } from './http.js'
import { keepNewest, nonce } from './ids.js'
import type { Route } from './route.js'

/** The origins api.video delivers from: the player (embed), private assets and sessions (vod), public assets (cdn). */
export const DELIVERY_ORIGINS = ['https://embed.api.video', 'https://vod.api.video', 'https://cdn.api.video']
/** A viewer session lives 24 hours, on the stand-in's clock. */
const SESSION_MS = 24 * 3600_000
/** At most this many private tokens, and as many sessions, are kept; the oldest are forgotten first. */
const MAX_TOKENS = 10_000
const VIDEO_ID = '(vi[0-9A-Za-z]+)'
/** An asset's content type and body: the stand-in serves a few bytes in its place. */
type Asset = { type: string; body: string }
/** The assets a video has (the routes' patterns name only these), by their path after its `/vod/{videoId}`. */
const ASSETS: Record<string, Asset> = {
  'hls/manifest.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-VERSION:3\n' },
  'thumbnail.jpg': { type: 'image/jpeg', body: 'stand-in thumbnail' },
  'mp4/source.mp4': { type: 'video/mp4', body: 'stand-in video' },
}
const PLAYER = { type: 'text/html; charset=utf-8', body: '<!doctype html><title>stand-in player</title>' }

/** A private token: the video it is for, and what it was used for (nothing yet, one play, or a session). */
interface PrivateToken {
  videoId: string
  used: 'no' | 'played' | 'session'
}

/** What the delivery routes need of a video: whether it is public, and whether it has an MP4. */
type VideoOf = (videoId: string) => Json | undefined

/** The delivery of one stand-in's videos: the assets its answers show, and the routes that play them. */
export function createPrivateDelivery(now: () => number, videoOf: VideoOf) {
  const tokens = new Map<string, PrivateToken>() // oldest first
  const sessions = new Map<string, { token: string; expiresAt: number }>() // oldest first

  /**
   * A video's `assets`, as one answer shows them: a public video's untokenized, a private video's with a new token
   * (in the player's query, and in the path of the others), minted for this answer.
   */
  function assets(video: Json): Json {
    const videoId = video.videoId as string
    let player = `https://embed.api.video/vod/${videoId}`
    let base = `https://cdn.api.video/vod/${videoId}`
    if (video.public === false) {
      const token = crypto.randomUUID()
      tokens.set(token, { videoId, used: 'no' })
      keepNewest(tokens, MAX_TOKENS)
      player += `?token=${token}`
      base = `https://vod.api.video/vod/${videoId}/token/${token}`
    }
    return {
      iframe:
        `<iframe src="${player}" width="100%" height="100%" frameborder="0" scrolling="no" allowfullscreen="">` +
        '</iframe>',
      player,
      hls: `${base}/hls/manifest.m3u8`,
      thumbnail: `${base}/thumbnail.jpg`,
      ...(video.mp4Support === true ? { mp4: `${base}/mp4/source.mp4` } : {}),
    }
  }

  /**
   * True when `token` may play one asset of `videoId`: with `avh`, while that session of the token lives (any number
   * of assets); without, once, if the token was never used.
   */
  function admit(videoId: string, token: string, avh: string | null): boolean {
    const found = tokens.get(token)
    if (found?.videoId !== videoId) return false
    if (avh !== null) {
      const session = sessions.get(avh)
      return session?.token === token && now() < session.expiresAt
    }
    if (found.used !== 'no') return false
    found.used = 'played'
    return true
  }

  /** `GET /vod/{videoId}/token/{token}/session`: a new viewer session for an unused token. */
  function startSession(videoId: string, token: string): Response {
    const found = tokens.get(token)
    if (videoOf(videoId)?.public !== false || found?.videoId !== videoId || found.used !== 'no') return spent()
    found.used = 'session'
    const sessionToken = nonce()
    sessions.set(sessionToken, { token, expiresAt: now() + SESSION_MS })
    keepNewest(sessions, MAX_TOKENS)
    return json(200, { session_token: sessionToken })
  }

  const routes = deliveryRoutes(videoOf, admit, startSession)
  const originRoutes: Route[] = [...routes, { path: /^/, access: 'delivery', methods: { '*': () => spent() } }]

  /** A video as an answer shows it: a private one with a new token in its assets. */
  const show = (video: Json): Json => (video.public === false ? { ...video, assets: assets(video) } : video)

  return { show, routes, originRoutes }
}

/** The delivery origins' routes: the player, a viewer's session, a private video's assets, a public video's. */
function deliveryRoutes(
  videoOf: VideoOf,
  admit: (videoId: string, token: string, avh: string | null) => boolean,
  startSession: (videoId: string, token: string) => Response,
): Route[] {
  const isPrivate = (videoId: string) => videoOf(videoId)?.public === false
  const hasAsset = (videoId: string, asset: string) =>
    asset !== 'mp4/source.mp4' || videoOf(videoId)?.mp4Support === true

  return [
    {
      // The player, on embed.api.video: `?token=` for a private video, with `&avh=` in a session.
      path: new RegExp(`^/vod/${VIDEO_ID}$`),
      access: 'delivery',
      methods: {
        GET: ({ id, url }) => {
          const video = videoOf(id)
          if (video?.public === true) return serve(PLAYER)
          const token = url.searchParams.get('token') ?? ''
          return video && admit(id, token, url.searchParams.get('avh')) ? serve(PLAYER) : spent()
        },
      },
    },
    {
      path: new RegExp(`^/vod/${VIDEO_ID}/token/([^/]+)/session$`),
      access: 'delivery',
      methods: { GET: ({ id, url }) => startSession(id, segment(url, 4)) },
    },
    {
      // A private video's assets, on vod.api.video.
      path: new RegExp(`^/vod/${VIDEO_ID}/token/[^/]+/(hls/manifest\\.m3u8|thumbnail\\.jpg|mp4/source\\.mp4)$`),
      access: 'delivery',
      methods: {
        GET: ({ id, url }) => {
          const asset = url.pathname.split('/').slice(5).join('/')
          const playable =
            isPrivate(id) && hasAsset(id, asset) && admit(id, segment(url, 4), url.searchParams.get('avh'))
          return playable ? serve(ASSETS[asset] as Asset) : spent()
        },
      },
    },
    {
      // A public video's assets, on cdn.api.video: no token.
      path: new RegExp(`^/vod/${VIDEO_ID}/(hls/manifest\\.m3u8|thumbnail\\.jpg|mp4/source\\.mp4)$`),
      access: 'delivery',
      methods: {
        GET: ({ id, url }) => {
          const asset = url.pathname.split('/').slice(3).join('/')
          return videoOf(id)?.public === true && hasAsset(id, asset) ? serve(ASSETS[asset] as Asset) : spent()
        },
      },
    },
    // Anything else on a delivery path, or on a delivery origin, is not there.
    { path: /^\/vod(\/|$)/, access: 'delivery', methods: { '*': () => spent() } },
  ]
}

/** The path's `index`th segment, decoded (a malformed escape kept as sent, so it matches no token). */
function segment(url: URL, index: number): string {
  // The route's pattern matched: the segment is there.
  const raw = String(url.pathname.split('/')[index])
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

/** An asset's answer. */
const serve = (asset: Asset) => new Response(asset.body, { status: 200, headers: { 'content-type': asset.type } })

/** A spent, expired, unknown or foreign token, a missing asset or video: api.video's delivery answers 404. */
const spent = () =>
  json(404, { type: 'about:blank', title: 'No such asset, or its token is spent or expired.', status: 404 })
