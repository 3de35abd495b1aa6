// Delegated upload tokens: POST and GET /upload-tokens, GET and DELETE /upload-tokens/{uploadToken}, and
// POST /upload?token=…, which takes one in place of credentials.
import { type Json, json } from '../http.js'
import { atom, id, keepNewest } from '../ids.js'
import { page, sortOf, sorted } from '../pagination.js'
import { jsonPayload } from '../payloads.js'
import { badRequest, invalid, notFound, required } from '../problems.js'
import type { Call, Route } from '../route.js'
import type { Videos } from './videos.js'

/** At most this many upload tokens are kept; the oldest are forgotten first. */
const MAX_UPLOAD_TOKENS = 10_000
const MAX_TTL = 2_147_483_647

/** The upload tokens of one stand-in, and their routes; an upload creates a video in `videos`. */
export function createUploadTokens(now: () => number, videos: Videos) {
  // Each with the API key that minted it: an upload counts against that key's budget.
  const tokens = new Map<string, { ttl: number; createdAt: number; apiKey: string | undefined }>() // oldest first

  /** The token if it is live: known, not deleted, not expired (a `ttl` of 0 never expires). */
  function live(token: string): Json | undefined {
    const found = tokens.get(token)
    if (!found) return undefined
    const expiresAt = found.createdAt + found.ttl * 1000
    if (found.ttl > 0 && expiresAt <= now()) {
      tokens.delete(token)
      return undefined
    }
    return {
      token,
      ttl: found.ttl,
      createdAt: atom(found.createdAt),
      ...(found.ttl > 0 ? { expiresAt: atom(expiresAt) } : {}),
    }
  }

  /** `POST /upload-tokens`: a token that lives `ttl` seconds (0, the default: forever). */
  function mint({ request, body, apiKey }: Call): Response {
    const payload = jsonPayload(request, body)
    if (payload instanceof Response) return payload
    const { ttl = 0 } = payload
    if (!(Number.isInteger(ttl) && (ttl as number) >= 0 && (ttl as number) <= MAX_TTL))
      return badRequest([invalid('ttl', `This attribute must be an integer from 0 to ${MAX_TTL}.`)])
    const token = id('to')
    tokens.set(token, { ttl: ttl as number, createdAt: now(), apiKey })
    keepNewest(tokens, MAX_UPLOAD_TOKENS)
    return json(200, live(token))
  }

  /** `GET /upload-tokens`: the live tokens, sorted, a page at a time. */
  function list({ url }: Call): Response {
    const sort = sortOf(url, ['createdAt', 'ttl'])
    if (sort instanceof Response) return sort
    const all = [...tokens.keys()].map(live).filter((t): t is Json => t !== undefined)
    return json(200, page(url, sorted(all, sort)))
  }

  /**
   * `POST /upload?token=…` with a multipart `file` creates a video titled after the file; with a `videoId` part,
   * a later chunk of that video's upload. The file's bytes are not kept.
   */
  async function upload({ request, url, body }: Call): Promise<Response> {
    const token = url.searchParams.get('token')
    if (!token) return badRequest([required('token')])
    if (!live(token)) return badRequest([invalid('token', 'The upload token is invalid or expired.')])
    const contentType = request.headers.get('content-type') ?? ''
    const form = /^multipart\/form-data\s*;/i.test(contentType)
      ? await new Response(body, { headers: { 'content-type': contentType } }).formData().catch(() => undefined)
      : undefined
    // The `file` part, or the one file part under another name, as the official Node client sends it.
    const files = [...(form?.entries() ?? [])].filter(
      (entry): entry is [string, File] => typeof entry[1] !== 'string',
    )
    const file = (files.find(([name]) => name === 'file') ?? (files.length === 1 ? files[0] : undefined))?.[1]
    if (!file) return badRequest([required('file')])
    const videoId = form?.get('videoId')
    if (typeof videoId !== 'string') return json(201, videos.create({ title: file.name || 'file' }, 'upload'))
    const video = videos.get(videoId)
    return video ? json(201, video) : notFound('videoId')
  }

  /** The API key that minted a live upload token, if it is one. */
  const apiKeyOf = (token: string | null): string | undefined =>
    token !== null && live(token) ? tokens.get(token)?.apiKey : undefined

  const routes: Route[] = [
    { path: '/upload-tokens', access: 'api', methods: { POST: mint, GET: list } },
    {
      path: /^\/upload-tokens\/([^/]+)$/,
      access: 'api',
      methods: {
        GET: ({ id: token }) => {
          const found = live(token)
          return found ? json(200, found) : notFound('uploadToken')
        },
        DELETE: ({ id: token }) => {
          if (!live(token)) return notFound('uploadToken')
          tokens.delete(token)
          return json(204, null)
        },
      },
    },
    { path: '/upload', access: 'open', methods: { POST: upload } },
  ]
  return { routes, apiKeyOf }
}
