// Size: minified (esbuild), gzipped (level 9) bundles of the core as users ship it, and of the peers' equivalents.
// The core is measured whole, from a virtual entry that re-exports src/index.ts, as a quick-start user bundles it.
import { bundle } from '../build.mjs'
import { ROOT } from './lib.mjs'

const CORE = `${ROOT}src/index.ts`
const BENCH = `${ROOT}bench/`

/** What a user's bundle contains for each job; `dir` is where its imports resolve (the peers live in bench/). */
export const ENTRIES = {
  core: { contents: `export * from '${CORE}'`, dir: ROOT },
  builders: { contents: `export { authenticateRequest, refreshRequest } from '${CORE}'`, dir: ROOT },
  webhooks: { contents: `export * from '${ROOT}src/webhooks.ts'`, dir: ROOT },
  share: { contents: `export * from '${ROOT}src/share.ts'`, dir: ROOT },
  private: { contents: `export * from '${ROOT}src/private.ts'`, dir: ROOT },
  official: {
    contents: [
      `import ApiVideoClient from '@api.video/nodejs-client'`,
      `export const getAccessToken = (apiKey) => new ApiVideoClient({ apiKey }).getAccessToken()`,
    ].join('\n'),
    dir: ROOT,
  },
  oauthWhole: { contents: `export * from 'oauth4webapi'`, dir: BENCH },
  oauthRefresh: {
    contents: `export { refreshTokenGrantRequest, processRefreshTokenResponse } from 'oauth4webapi'`,
    dir: BENCH,
  },
}

export { bundle }

/** Bundles for a platform, or says why it cannot: esbuild's error count and the first distinct messages. */
async function attempt(entry, platform, extra) {
  try {
    return await bundle(entry, platform, extra)
  } catch (error) {
    const texts = [...new Set((error.errors ?? []).map((e) => e.text))]
    return {
      error: `${error.errors?.length ?? 1} errors: ${(texts.length ? texts : [error.message]).slice(0, 4).join('; ')}`,
    }
  }
}

export async function measureSizes() {
  return {
    core: await bundle(ENTRIES.core),
    builders: await bundle(ENTRIES.builders),
    webhooks: await bundle(ENTRIES.webhooks),
    share: await bundle(ENTRIES.share),
    private: await bundle(ENTRIES.private),
    // Neutral with main fields, so that package resolution is not what fails: the Node built-ins axios needs are.
    officialNeutral: await attempt(ENTRIES.official, 'neutral', { mainFields: ['module', 'main'] }),
    official: await bundle(ENTRIES.official, 'node'),
    oauthWhole: await bundle(ENTRIES.oauthWhole),
    oauthRefresh: await bundle(ENTRIES.oauthRefresh),
  }
}
