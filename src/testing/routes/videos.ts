// Videos, kept in memory in api.video's shapes (its OpenAPI document): POST and GET /videos, and
// GET, PATCH and DELETE /videos/{videoId}.
import { type Bytes, type Json, isObject, json } from '../http.js'
import { atom, id, keepNewest } from '../ids.js'
import { page, sortOf, sorted } from '../pagination.js'
import { BOOLEAN, NULLABLE_STRING, OBJECT, type Rule, STRING, STRINGS, check, jsonPayload } from '../payloads.js'
import { badRequest, notFound, required } from '../problems.js'
import type { Call, Route } from '../route.js'

/** At most this many videos are kept; the oldest are forgotten first. */
const MAX_VIDEOS = 1000
const LANGUAGES =
  'ar ca cs da de el en es fa fi fr he hi hr hu it ja ko ml nl nn false pl pt ru sk sl te tr uk ur vi zh'.split(' ')

const METADATA: Rule = (v) =>
  Array.isArray(v) && v.every((m) => isObject(m) && typeof m.key === 'string' && typeof m.value === 'string')
    ? undefined
    : 'This attribute must be an array of { "key", "value" } strings.'
const LANGUAGE: Rule = (v) =>
  typeof v === 'string' && LANGUAGES.includes(v) ? undefined : 'This attribute must be a supported language.'
const SUMMARY_ATTRIBUTES: Rule = (v) =>
  Array.isArray(v) && v.every((a) => a === 'abstract' || a === 'takeaways')
    ? undefined
    : 'This attribute must be an array of "abstract" and "takeaways".'

/** The attributes of `video-update-payload`; `video-creation-payload` adds source, clip and watermark. */
const UPDATE_RULES: Record<string, Rule> = {
  title: STRING,
  description: STRING,
  public: BOOLEAN,
  panoramic: BOOLEAN,
  mp4Support: BOOLEAN,
  playerId: NULLABLE_STRING,
  tags: STRINGS,
  metadata: METADATA,
  language: LANGUAGE,
  transcript: BOOLEAN,
  transcriptSummary: BOOLEAN,
  transcriptSummaryAttributes: SUMMARY_ATTRIBUTES,
}
const CREATION_RULES: Record<string, Rule> = {
  ...UPDATE_RULES,
  playerId: STRING,
  source: STRING,
  clip: OBJECT,
  watermark: OBJECT,
}
/** What a video object shows of a payload: the rest (source, clip, transcripts…) starts work api.video does. */
const SHOWN = [
  'title',
  'description',
  'public',
  'panoramic',
  'mp4Support',
  'playerId',
  'tags',
  'metadata',
  'language',
]

/** A video's `assets`: where its player and streams are. */
function assets(videoId: string, mp4Support: boolean): Json {
  const vod = `https://cdn.api.video/vod/${videoId}`
  return {
    iframe:
      `<iframe src="https://embed.api.video/vod/${videoId}" width="100%" height="100%" frameborder="0"` +
      ' scrolling="no" allowfullscreen=""></iframe>',
    player: `https://embed.api.video/vod/${videoId}`,
    hls: `${vod}/hls/manifest.m3u8`,
    thumbnail: `${vod}/thumbnail.jpg`,
    ...(mp4Support ? { mp4: `${vod}/mp4/source.mp4` } : {}),
  }
}

/**
 * Copies the shown attributes of a checked payload onto a video, and keeps its dates and assets in step: it was
 * updated `at`.
 */
function apply(video: Json, payload: Json, at: number): Json {
  for (const name of SHOWN) if (name in payload) video[name] = payload[name]
  if (video.playerId === null) delete video.playerId
  if ('language' in payload) video.languageOrigin = 'api'
  video.updatedAt = atom(at)
  video.assets = assets(video.videoId as string, video.mp4Support === true)
  return video
}

/**
 * The videos of one stand-in, and their routes; `show` is how an answer shows a video (a private one with a new
 * token in its assets).
 */
export function createVideos(now: () => number, show: (video: Json) => Json) {
  const videos = new Map<string, Json>() // videoId -> video, oldest first

  /** A new video object, remembered (the oldest forgotten beyond 1,000). */
  function create(payload: Json, sourceType?: string): Json {
    const videoId = id('vi')
    const at = atom(now())
    const video: Json = {
      videoId,
      createdAt: at,
      title: '',
      description: '',
      publishedAt: at,
      updatedAt: at,
      discarded: false,
      discardedAt: null,
      deletesAt: null,
      public: true,
      panoramic: false,
      mp4Support: true,
      tags: [],
      metadata: [],
      source: sourceType
        ? { type: sourceType, uri: `/videos/${videoId}/source` }
        : { uri: `/videos/${videoId}/source` },
    }
    videos.set(videoId, apply(video, payload, now()))
    keepNewest(videos, MAX_VIDEOS)
    return video
  }

  /** `GET /videos`: filtered by `title` and `tags[]`, sorted, a page at a time. */
  function list({ url }: Call): Response {
    const title = url.searchParams.get('title')
    const tags = url.searchParams.getAll('tags[]')
    const sort = sortOf(url, ['title', 'createdAt', 'publishedAt', 'updatedAt'])
    if (sort instanceof Response) return sort
    const found = [...videos.values()].filter(
      (v) =>
        (title === null || (v.title as string).includes(title)) &&
        tags.every((tag) => (v.tags as string[]).includes(tag)),
    )
    const shown = page(url, sorted(found, sort))
    return json(200, { ...shown, data: shown.data.map((video) => show(video as Json)) })
  }

  /** `POST /videos`: a `video-creation-payload`, `title` required. */
  function createFrom({ request, body }: Call): Response {
    const payload = jsonPayload(request, body)
    if (payload instanceof Response) return payload
    const problems = check(payload, CREATION_RULES)
    if (payload.title === undefined || payload.title === '') problems.unshift(required('title'))
    return problems.length > 0 ? badRequest(problems) : json(201, show(create(payload)))
  }

  /** Answers a request on `/videos/{videoId}` with `found(video)`, or api.video's 404 for an unknown id. */
  const one =
    (found: (video: Json, request: Request, body: Bytes) => Response) =>
    ({ id: videoId, request, body }: Call): Response => {
      const video = videos.get(videoId)
      return video ? found(video, request, body) : notFound('videoId')
    }

  /** `PATCH /videos/{videoId}`: a `video-update-payload`. */
  function update(video: Json, request: Request, body: Bytes): Response {
    const payload = jsonPayload(request, body)
    if (payload instanceof Response) return payload
    const problems = check(payload, UPDATE_RULES)
    return problems.length > 0 ? badRequest(problems) : json(200, show(apply(video, payload, now())))
  }

  const routes: Route[] = [
    { path: '/videos', access: 'api', methods: { GET: list, POST: createFrom } },
    {
      path: /^\/videos\/([^/]+)$/,
      access: 'api',
      methods: {
        GET: one((video) => json(200, show(video))),
        PATCH: one(update),
        DELETE: one((video) => {
          videos.delete(video.videoId as string)
          return json(204, null)
        }),
      },
    },
  ]
  return { routes, create, get: (videoId: string) => videos.get(videoId) }
}

/** The videos of one stand-in. */
export type Videos = ReturnType<typeof createVideos>
