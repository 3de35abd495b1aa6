// Run inside the temporary project where the tarball is installed: the package through ESM `import`.
import * as lib from 'apivideo-auth'
import * as testing from 'apivideo-auth/testing'
import * as webhooks from 'apivideo-auth/webhooks'
import * as privateVideos from 'apivideo-auth/private'
import { createRequire } from 'node:module'

const standIn = testing.createStandIn({ apiKeys: ['test-key'] })
const session = lib.createSession({ apiKey: 'test-key', fetch: standIn.fetch })
const cjs = createRequire(import.meta.url)('apivideo-auth')
const error = await cjs.authenticate('wrong-key', { fetch: standIn.fetch }).catch((e) => e)
const created = await session.fetch('/videos', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ title: 'consumer' }),
})
const { videoId } = await created.json()
const video = await privateVideos.privateVideo(session, videoId)
const badId = await privateVideos.privateVideo(session, '../auth/api-key').catch((e) => e)
const refused = await webhooks.verifyWebhook({ headers: {}, body: '{}' }, { secret: 'x' }).catch((e) => e)
console.log(
  JSON.stringify({
    exports: Object.keys(lib).sort(),
    testing: Object.keys(testing).sort(),
    webhooks: Object.keys(webhooks).sort(),
    private: Object.keys(privateVideos).sort(),
    token: (await session.token()).length > 0,
    requests: standIn.requests.map((r) => r.path.replace(videoId, '{videoId}')),
    crossCopy: [lib.isApiVideoAuthError(error), error instanceof lib.ApiVideoAuthError, error.code],
    webhookError: [lib.isApiVideoAuthError(refused), refused.code],
    privateVideo: [video.public, video.token, video.player.endsWith(videoId), badId.code],
  }),
)
