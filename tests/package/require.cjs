// Run inside the temporary project where the tarball is installed: the package through CommonJS `require`.
const lib = require('apivideo-auth')
const testing = require('apivideo-auth/testing')
const webhooks = require('apivideo-auth/webhooks')
const privateVideos = require('apivideo-auth/private')
const { version } = require('apivideo-auth/package.json')

void (async () => {
  const standIn = testing.createStandIn({ apiKeys: ['test-key'] })
  const session = lib.createSession({ apiKey: 'test-key', fetch: standIn.fetch })
  console.log(
    JSON.stringify({
      exports: Object.keys(lib).sort(),
      testing: Object.keys(testing).sort(),
      webhooks: Object.keys(webhooks).sort(),
      private: Object.keys(privateVideos).sort(),
      version,
      token: (await session.token()).length > 0,
      requests: standIn.requests.map((r) => r.path),
    }),
  )
})()
