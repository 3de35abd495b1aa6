// A consumer of the published package: it uses every export, and check.mjs type-checks it (as .ts and .cts)
// under moduleResolution bundler, node16 and nodenext, with the DOM lib and with @types/node instead.
import {
  ApiVideoAuthError,
  PRODUCTION_URL,
  SANDBOX_URL,
  authenticate,
  authenticateRequest,
  createSession,
  isApiVideoAuthError,
  readAccessToken,
  refresh,
  refreshRequest,
} from 'apivideo-auth'
import type {
  AccessToken,
  ArgumentError,
  ArgumentErrorCode,
  CachedToken,
  Endpoint,
  ReadOptions,
  RateLimitKind,
  ShareCall,
  ShareEvent,
  TokenWithExpiry,
  CallOptions,
  ErrorCode,
  ProblemDetails,
  RequestOptions,
  Session,
  SessionEvent,
  SessionOptions,
  TokenOptions,
  FetchFunction,
  ShareContext,
  TokenShare,
  FleetWindow,
} from 'apivideo-auth'
import { privateVideo } from 'apivideo-auth/private'
import type {
  PrivateVideo,
  PrivateVideoError,
  PrivateVideoErrorCode,
  PrivateVideoOptions,
} from 'apivideo-auth/private'
import { shareTokens } from 'apivideo-auth/share'
import type { ShareOptions, TokenStore } from 'apivideo-auth/share'
import { createStandIn } from 'apivideo-auth/testing'
import type {
  Credential,
  Fault,
  RateLimits,
  StandIn,
  StandInCounts,
  StandInOptions,
  StandInRequest,
} from 'apivideo-auth/testing'
import { WEBHOOK_EVENTS, deliverWebhook, signWebhook } from 'apivideo-auth/testing'
import type {
  DeliverOptions,
  DeliverWebhookOptions,
  StandInWebhook,
  WebhookDelivery,
  WebhookEventInit,
} from 'apivideo-auth/testing'
import { verifyWebhook, webhookSecrets } from 'apivideo-auth/webhooks'
import type {
  VerifyWebhookOptions,
  VideoEncodingQualityCompletedEvent,
  WebhookError,
  WebhookErrorCode,
  WebhookEvent,
  WebhookEventBase,
  WebhookEventType,
  WebhookInput,
  WebhookSecret,
  WebhookSecretsOptions,
} from 'apivideo-auth/webhooks'

export async function main(): Promise<string[]> {
  const rateLimits: RateLimits = { reads: 500, windowMs: 60_000 }
  const standInOptions: StandInOptions = { apiKeys: ['test-key'], expiresIn: 3599, now: Date.now, rateLimits }
  const standIn: StandIn = createStandIn(standInOptions)
  const faults: Fault[] = [{ status: 503, headers: { 'retry-after': '1' } }, { delay: 10 }, { networkError: true }]
  standIn.fail('/auth/refresh', ...faults)

  const requestOptions: RequestOptions = { baseUrl: SANDBOX_URL, headers: { 'AV-Origin-App': 'consumer:1.0.0' } }
  const callOptions: CallOptions = {
    baseUrl: PRODUCTION_URL,
    fetch: standIn.fetch,
    timeout: 5_000,
    signal: new AbortController().signal,
  }
  const requests: Request[] = [authenticateRequest('test-key', requestOptions), refreshRequest('rt', requestOptions)]
  const [authRequest] = requests
  if (authRequest === undefined) throw new Error('the builders returned no Request')
  const first: AccessToken = await authenticate('test-key', callOptions)
  const second: AccessToken = await refresh(first.refreshToken, callOptions)
  const endpoint: Endpoint = 'api-key'
  const readOptions: ReadOptions = { endpoint, sentAt: Date.now() }
  const read: AccessToken = await readAccessToken(await standIn.fetch(authRequest), readOptions)

  const events: SessionEvent[] = []
  const webhookFactsLater: string[] = []
  const shareCalls: ShareCall[] = events.flatMap((event) => (event.type === 'share-failed' ? [event.call] : []))
  const waitedKinds: RateLimitKind[] = events.flatMap((event) =>
    event.type === 'rate-limit-wait' ? [event.kind] : [],
  )
  const memory = new Map<string, string>()
  const store: TokenStore = {
    get: async (key) => memory.get(key),
    set: async (key, value) => memory.set(key, value),
  }
  const fetch: FetchFunction = standIn.fetch
  const shareOptions: ShareOptions = { key: 'consumer' }
  const shareHook: (context: ShareContext) => TokenShare = shareTokens(store, shareOptions)
  const seenShared: CachedToken[] = []
  const shareEvents: ShareEvent[] = []
  const share = (context: ShareContext): TokenShare => {
    const hook = shareHook({ ...context, emit: (event) => (shareEvents.push(event), context.emit(event)) })
    return {
      renew: async (renewHere, renewal) => {
        const token = await hook.renew(renewHere, renewal)
        seenShared.push(token)
        return token
      },
      settled: () => hook.settled(),
      // The fleet's rate-limit window, as a custom share gives it: no store here, so none.
      window: async (): Promise<FleetWindow | undefined> => undefined,
    }
  }
  const options: SessionOptions = {
    apiKey: 'test-key',
    fetch,
    retries: 1,
    onEvent: (event) => events.push(event),
    share,
  }
  const session: Session = createSession(options)
  const tokenOptions: TokenOptions = { signal: AbortSignal.timeout(1_000), forceRefresh: true }
  const token: string = await session.token(tokenOptions)
  const header: string = await session.authorization()
  const response: Response = await session.fetch(new URL('https://ws.api.video/videos'), {
    method: 'POST',
    body: '{}',
  })
  session.invalidate()
  const expiring: TokenWithExpiry = await session.tokenWithExpiry()
  await session.settled()
  try {
    createSession({ apiKey: '' })
  } catch (error) {
    const argumentCode: ArgumentErrorCode = (error as ArgumentError).code
    webhookFactsLater.push(argumentCode, String(expiring.expiresAt))
  }

  try {
    await authenticate('wrong-key', callOptions)
  } catch (error) {
    if (isApiVideoAuthError(error)) {
      const code: ErrorCode = error.code
      const problem: ProblemDetails | undefined = error.problem
      const retryable: boolean = error.retryable
      events.push({ type: 'renewal-failed', at: Date.now(), code, attempt: problem?.status ?? (retryable ? 1 : 0) })
    }
    if (error instanceof ApiVideoAuthError && error.retryAfter !== undefined)
      events.push({ type: 'retrying', at: 0, code: error.code, attempt: 1, delayMs: error.retryAfter * 1000 })
  }

  const created = await session.fetch('/webhooks', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: [...WEBHOOK_EVENTS] }),
  })
  const webhook = (await created.json()) as StandInWebhook
  const webhookFacts: string[] = []
  const init: WebhookEventInit = { type: 'video.encoding.quality.completed', videoId: 'vi1' }
  const deliverOptions: DeliverOptions = { retry: false, fetch: standIn.fetch }
  const sent: WebhookDelivery[] = await standIn.deliver(init, deliverOptions)
  const direct: DeliverWebhookOptions = {
    secret: webhook.signatureSecret,
    fetch: standIn.fetch,
    wait: async () => {},
  }
  const delivered: WebhookDelivery = await deliverWebhook('http://127.0.0.1:9/hook', init, direct)
  const input: WebhookInput = {
    headers: { 'x-api-video-signature': await signWebhook(delivered.body, webhook.signatureSecret) },
    body: delivered.body,
  }
  const secret: WebhookSecret = webhookSecrets(session, { now: Date.now } satisfies WebhookSecretsOptions)
  const verifyOptions: VerifyWebhookOptions = { secret: [webhook.signatureSecret], maxAge: 60_000 }
  const event: WebhookEvent = await verifyWebhook(input, verifyOptions)
  const type: WebhookEventType = event.type
  if (event.type === 'video.encoding.quality.completed') {
    const quality: VideoEncodingQualityCompletedEvent = event
    webhookFacts.push(quality.quality)
  }
  const base: WebhookEventBase = event
  await verifyWebhook(new Request('http://127.0.0.1/hook', { method: 'POST' }), { secret }).catch(
    (error: WebhookError) => {
      const code: WebhookErrorCode = error.code
      webhookFacts.push(code)
    },
  )
  const privateOptions: PrivateVideoOptions = { sessionToken: true, fetch: standIn.fetch, signal: undefined }
  const videoLinks: PrivateVideo = await privateVideo(session, 'vi4blUQJFrYWbaG44NChkH27', privateOptions)
  const privateFacts: string[] = [videoLinks.player, videoLinks.token ?? 'public', videoLinks.sessionToken ?? '']
  await privateVideo(session, 'vi4blUQJFrYWbaG44NChkH27').catch((error: PrivateVideoError) => {
    const code: PrivateVideoErrorCode = error.code
    privateFacts.push(code, String(error.retryable), String(error.status ?? error.retryAfter))
  })
  // @ts-expect-error: a misspelt option is refused
  await privateVideo(session, 'vi4blUQJFrYWbaG44NChkH27', { sessiontoken: true }).catch(() => undefined)
  // @ts-expect-error: not an event type
  const notAType: WebhookEventType = 'video.deleted'
  // @ts-expect-error: a misspelt option is refused
  await verifyWebhook(input, { secret: 'x', maxage: 1 }).catch(() => undefined)

  // @ts-expect-error: not an error code, so the types are not `any`
  const unknownCode: ErrorCode = 'NOT_A_CODE'
  // @ts-expect-error: a misspelt option is refused
  createSession({ baseURL: SANDBOX_URL })
  const seen: StandInRequest[] = standIn.requests
  const counts: StandInCounts = standIn.counts
  const credentials: Credential[] = seen.map((r) => r.credential)
  return [
    ...seenShared.map((s) => s.token),
    second.accessToken,
    read.tokenType,
    token,
    header,
    String(response.status),
    unknownCode,
    String(counts.requests),
    ...credentials,
    ...seen.map((r) => r.path),
    ...sent.map((d) => d.url),
    type,
    base.emittedAt,
    notAType,
    ...webhookFacts,
    ...webhookFactsLater,
    ...shareCalls,
    ...waitedKinds,
    ...shareEvents.map((event) => event.type),
    ...privateFacts,
  ]
}
