import type { FetchFunction, Session } from './index.js'
import { badArgument } from './internal/errors.js'
import { type Known, checkOptions as checkKnown } from './internal/options.js'

/** Options of `privateVideo`. */
export interface PrivateVideoOptions {
  /**
   * Also start the viewer's session at the delivery origin, so that several assets (a thumbnail, then the player,
   * then the mp4) play on the one private token: every link then carries `avh`. One more request, without
   * credentials; none for a public video. `false` by default.
   */
  sessionToken?: boolean | undefined
  /**
   * The fetch for the delivery origin (`vod.api.video`), which starts the session; `globalThis.fetch` by default,
   * looked up at call time. The video itself is read through `session.fetch`.
   */
  fetch?: FetchFunction | undefined
  /** The caller's cancellation, for both requests: an abort rejects with the signal's reason. */
  signal?: AbortSignal | undefined
}

/**
 * One viewer's links to a video. For a private video every link carries the same private token, which plays once
 * (or, with `sessionToken`, for every asset of the viewer's 24-hour session): hand them to one viewer, never cache
 * them. For a public video `token` is undefined and the links are api.video's, as answered.
 */
export interface PrivateVideo {
  videoId: string
  /** The video's `public` attribute: true when its links need no token. */
  public: boolean
  /** The private token every link carries; undefined for a public video. */
  token: string | undefined
  /** The player page, `https://embed.api.video/vod/{videoId}?token={token}`. */
  player: string
  /** An `<iframe>` element of the player, to put in a page as it is. */
  iframe: string
  /** The HLS manifest. */
  hls: string
  /** The MP4 source; undefined when the video has no MP4 (`mp4Support: false`). */
  mp4: string | undefined
  thumbnail: string
  /** The viewer's session token (`avh` in every link), with `sessionToken: true` on a private video only. */
  sessionToken?: string
}

/** Codes of a failed `privateVideo`. */
export type PrivateVideoErrorCode =
  | 'VIDEO_NOT_FOUND'
  | 'INVALID_CREDENTIALS'
  | 'ACCESS_DENIED'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'UNEXPECTED_STATUS'
  | 'INVALID_RESPONSE'

/**
 * Why `privateVideo` failed: `VIDEO_NOT_FOUND` (a 404 from `GET /videos/{videoId}`), `INVALID_CREDENTIALS` (a 401:
 * the API refused the session's fresh token), `ACCESS_DENIED` (403), `RATE_LIMITED` (429, with `retryAfter`),
 * `SERVER_ERROR` (5xx), `UNEXPECTED_STATUS` (any other status, or the delivery origin refusing the session), or
 * `INVALID_RESPONSE` (an answer without the video's assets, or a private video's asset without its token). Named
 * `ApiVideoAuthError`, so the core's `isApiVideoAuthError` recognises it; its message never holds a token.
 */
export interface PrivateVideoError extends Error {
  name: 'ApiVideoAuthError'
  code: PrivateVideoErrorCode
  /** True when trying again may help: `RATE_LIMITED` and `SERVER_ERROR`. */
  retryable: boolean
  status?: number
  /** Seconds to wait, from `X-RateLimit-Retry-After`. */
  retryAfter?: number
}

/**
 * A video ID as api.video issues them: `vi` and 22 letters and digits (`vi4blUQJFrYWbaG44NChkH27`). Anything else
 * (`../auth/api-key`, a URL, an ID with a query) is refused before a request is built, so no input can steer
 * `session.fetch` to another path of the API.
 */
const VIDEO_ID = /^vi[0-9A-Za-z]{22}$/
const PRIVATE_VIDEO_OPTIONS: Known<PrivateVideoOptions> = { sessionToken: true, fetch: true, signal: true }
/** The assets a video answer must hold, each an `https:` URL; `mp4` only when the video has one. */
const REQUIRED_ASSETS = ['player', 'hls', 'thumbnail'] as const

function refuse(code: PrivateVideoErrorCode, detail: string, status?: number, retryAfter?: number): never {
  const http = status === undefined ? '' : ` (HTTP ${status})`
  const error = new Error(`api.video: ${code.toLowerCase().replace(/_/g, ' ')}${http}: ${detail}.`)
  throw Object.assign(error, {
    name: 'ApiVideoAuthError',
    code,
    retryable: code === 'RATE_LIMITED' || code === 'SERVER_ERROR',
    ...(status === undefined ? {} : { status }),
    ...(retryAfter === undefined ? {} : { retryAfter }),
  })
}

/** The error of a refused request: what its status means, and what was asked. */
function refuseStatus(response: Response, what: string, notFound: PrivateVideoErrorCode): never {
  // Not awaited: cancelling a tee'd body (a clone's) settles only once its twin is read or cancelled too.
  response.body?.cancel().catch(() => {})
  const { status } = response
  const codes: Record<number, PrivateVideoErrorCode> = {
    401: 'INVALID_CREDENTIALS',
    403: 'ACCESS_DENIED',
    404: notFound,
    429: 'RATE_LIMITED',
  }
  let code = codes[status] ?? 'UNEXPECTED_STATUS'
  if (status >= 500) code = 'SERVER_ERROR'
  // api.video says how long to wait in X-RateLimit-Retry-After, in seconds.
  const header = response.headers.get('x-ratelimit-retry-after')
  const seconds = header === null ? NaN : Number(header)
  return refuse(code, what, status, status === 429 && seconds >= 0 ? seconds : undefined)
}

function checkOptions(options: unknown): PrivateVideoOptions {
  const { sessionToken, fetch, signal } = checkKnown(options, PRIVATE_VIDEO_OPTIONS)
  if (sessionToken !== undefined && typeof sessionToken !== 'boolean') badArgument('sessionToken must be a boolean')
  if (fetch !== undefined && typeof fetch !== 'function') badArgument('fetch must be a function')
  if (signal !== undefined && Object.prototype.toString.call(signal) !== '[object AbortSignal]')
    badArgument('signal must be an AbortSignal')
  return options as PrivateVideoOptions
}

/** The answer's JSON body, or undefined when it is not JSON; an abort while reading rejects as fetch does. */
async function jsonOf(response: Response): Promise<unknown> {
  const text = await response.text()
  try {
    return (JSON.parse(text) as unknown) ?? undefined
  } catch {
    return undefined
  }
}

/** An asset of the answer as a URL, or INVALID_RESPONSE. */
function assetUrl(assets: Record<string, unknown>, name: string): URL {
  let url: URL | undefined
  try {
    url = new URL(assets[name] as string)
  } catch {}
  if (url?.protocol !== 'https:') refuse('INVALID_RESPONSE', `the video's assets.${name} is not an https: URL`)
  return url
}

/**
 * The private token an asset URL carries, read with the URL API: the player's in its `token` parameter
 * (`/vod/{videoId}?token=…`), the others' in their path (`/vod/{videoId}/token/{token}/…`).
 */
function tokenOf(url: URL, videoId: string): string | undefined {
  const [, vod, id, marker, token] = url.pathname.split('/')
  if (vod !== 'vod' || id !== videoId) return undefined
  if (marker === undefined) return url.searchParams.get('token') ?? undefined
  if (marker !== 'token' || !token) return undefined
  try {
    return decodeURIComponent(token)
  } catch {
    return undefined
  }
}

/** The one private token of every asset; INVALID_RESPONSE when one lacks it or they differ. */
function privateToken(urls: Map<string, URL>, videoId: string): string {
  const tokens = new Set([...urls.values()].map((url) => tokenOf(url, videoId)))
  const [token] = tokens
  if (token === undefined || tokens.has(undefined))
    refuse('INVALID_RESPONSE', 'an asset of the private video carries no private token')
  if (tokens.size > 1) refuse('INVALID_RESPONSE', 'the assets of the private video carry different tokens')
  return token
}

/** The player as an `<iframe>`; `&` is written `&amp;` in the attribute, as HTML wants it. */
const iframeOf = (player: string) =>
  `<iframe src="${player.replaceAll('&', '&amp;')}" width="100%" height="100%" frameborder="0" scrolling="no" ` +
  'allowfullscreen=""></iframe>'

/** The links, each an asset's URL with `parameters` added to its query (`?avh=`, or `&avh=` after `?token=`). */
function linksOf(urls: Map<string, URL>, parameters: Record<string, string>) {
  const link = (name: string) => {
    const url = new URL(urls.get(name) as URL)
    for (const [key, value] of Object.entries(parameters)) url.searchParams.set(key, value)
    return url.href
  }
  const player = link('player')
  return {
    player,
    iframe: iframeOf(player),
    hls: link('hls'),
    mp4: urls.has('mp4') ? link('mp4') : undefined,
    thumbnail: link('thumbnail'),
  }
}

/**
 * Starts the viewer's session on `origin` for `token`, with no credentials (the access token is for the API's
 * origin only): `GET {origin}/vod/{videoId}/token/{token}/session` answers `{ "session_token": "…" }`.
 */
async function startSession(
  origin: string,
  { videoId, token }: { videoId: string; token: string },
  { fetch = globalThis.fetch, signal }: PrivateVideoOptions,
): Promise<string> {
  const url = `${origin}/vod/${videoId}/token/${encodeURIComponent(token)}/session`
  const response = (await fetch(new Request(url, signal ? { signal } : {}))) as Response
  const what = `the delivery origin refused to start the viewer's session of ${videoId}`
  if (!response.ok) return refuseStatus(response, what, 'UNEXPECTED_STATUS')
  const sessionToken = ((await jsonOf(response)) as { session_token?: unknown } | undefined)?.session_token
  if (typeof sessionToken !== 'string' || sessionToken === '')
    refuse('INVALID_RESPONSE', `the session answer of ${videoId} holds no session_token`)
  return sessionToken
}

/**
 * One viewer's links to a video, from one `GET /videos/{videoId}` through `session` (which api.video answers with a
 * new private token each time, for a private video). The token is read from the asset URLs with the URL API and
 * every link carries it; a public video's links come as api.video answered them, with `token` undefined.
 * With `{ sessionToken: true }`, a private video's viewer session is also started at the delivery origin (without
 * credentials, through `options.fetch`), and `avh` is added to every link, so that all of them play on the one token.
 *
 * Each call is one token for one viewer: answer it with `Cache-Control: no-store`, never from a cache.
 * `videoId` must be `vi` and 22 letters and digits, or it is a `TypeError` (`ERR_INVALID_ARGUMENT`) and nothing
 * is sent. A failure rejects with a `PrivateVideoError` (see its codes); a network failure as fetch rejects.
 * @example
 * import { createSession } from 'apivideo-auth'
 * import { privateVideo } from 'apivideo-auth/private'
 *
 * const session = createSession()
 * const video = await privateVideo(session, 'vi4blUQJFrYWbaG44NChkH27', { sessionToken: true })
 * video.player // https://embed.api.video/vod/vi4blUQJFrYWbaG44NChkH27?token=…&avh=…
 */
export async function privateVideo(
  session: Pick<Session, 'fetch'>,
  videoId: string,
  options: PrivateVideoOptions = {},
): Promise<PrivateVideo> {
  if (typeof session?.fetch !== 'function') badArgument('session must be a session')
  if (typeof videoId !== 'string' || !VIDEO_ID.test(videoId))
    badArgument('videoId must be a video ID: vi and 22 letters and digits')
  const { sessionToken: wantsSession = false, signal } = checkOptions(options)

  const response = (await session.fetch(`/videos/${videoId}`, signal ? { signal } : {})) as Response
  if (!response.ok) return refuseStatus(response, `GET /videos/${videoId}`, 'VIDEO_NOT_FOUND')
  const video = (await jsonOf(response)) as { public?: unknown; assets?: unknown } | undefined
  const assets = video?.assets as Record<string, unknown> | null | undefined
  if (typeof video?.public !== 'boolean' || typeof assets !== 'object' || assets === null)
    return refuse('INVALID_RESPONSE', `GET /videos/${videoId} answered no video with public and assets`)
  const names = assets.mp4 === undefined || assets.mp4 === null ? REQUIRED_ASSETS : [...REQUIRED_ASSETS, 'mp4']
  const urls = new Map<string, URL>(names.map((name) => [name, assetUrl(assets, name)]))

  if (video.public) return { videoId, public: true, token: undefined, ...linksOf(urls, {}) }
  const token = privateToken(urls, videoId)
  if (!wantsSession) return { videoId, public: false, token, ...linksOf(urls, {}) }
  const sessionToken = await startSession((urls.get('hls') as URL).origin, { videoId, token }, options)
  return { videoId, public: false, token, ...linksOf(urls, { avh: sessionToken }), sessionToken }
}
