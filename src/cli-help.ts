// The `apivideo-auth --help` text: every command, option and environment variable, and what the CLI promises.

export const HELP = `Usage: apivideo-auth <command> [options]

Commands:
  token                 print an access token
  header                print "Authorization: Bearer <access token>"
  stand-in              serve an offline api.video stand-in on 127.0.0.1 until stopped (Ctrl+C)
  send-webhook          send a signed test event to a webhook URL, as api.video does

Options of token and header:
  --json                (token) print the token as JSON, without the refresh token
  --sandbox             use the sandbox API (https://sandbox.api.video)
  --base-url URL        use another API base (http: only on loopback)
  --api-key-file PATH   read the API key from PATH (at most 16 KiB), or from standard input with "-"
  --no-cache            neither read nor write the token cache
  --verbose             say on stderr where the token came from: the cache (and its age)
                        or a renewal; never a secret

Options of stand-in:
  --port N              port on 127.0.0.1 (default 0: any free port)
  --expires-in S        lifetime of the tokens it issues, in seconds (default 3600)
  --rate-limits         play api.video's production rate limits (500 reads, 200 writes,
                        100 uploads a minute, per key); POST /_stand-in/rate-limits sets others

Options of send-webhook:
  --url URL             where to send it (http: or https:), e.g. http://127.0.0.1:3000/webhooks
  --type TYPE           the event type (default video.encoding.quality.completed)
  --webhook-id ID       the X-Api-Video-WebhookID header (default: a random webhook_ ID)
  --webhook-secret-file PATH
                        read the signature secret from PATH, or from standard input with "-"
  --retry               api.video's retry rule: after a status above 299, three more tries, 3 s apart

Other options:
  --help, -h            print this help
  --version             print the version of apivideo-auth

Environment variables:
  APIVIDEO_API_KEY      token, header: the API key (--api-key-file wins over it)
                        stand-in: the one key it accepts (default: test-key)
  APIVIDEO_BASE_URL     token, header: the API base (--sandbox and --base-url win over it)
  XDG_CACHE_HOME        token, header: the token cache is in $XDG_CACHE_HOME/apivideo-auth
                        (default: ~/.cache/apivideo-auth)
  APIVIDEO_WEBHOOK_SECRET
                        send-webhook: the signature secret (--webhook-secret-file wins over it)

The API key comes from APIVIDEO_API_KEY or --api-key-file, never from an argument
(arguments show in process lists). The same holds for a webhook's signature secret.

token and header cache the access token until shortly before it expires, so calls in
a loop authenticate once: the cache folder is owner-only (0700), its files too (0600),
and a file holds the token encrypted with a key derived from the API key and the API
base, never the token or the key in clear. A cache that cannot be used (read-only,
full, another format, or no answer within 2 s, as under /proc) prints one warning on
stderr and the command goes on without it.

The stand-in answers as api.video does: /auth/api-key and /auth/refresh, and every
other path as a resource that takes "Bearer <token>" or Basic credentials with the
key as user name. It keeps videos (/videos) and delegated upload tokens
(/upload-tokens, and POST /upload?token= without credentials) in memory, at most
1,000 videos; the other list routes answer an empty page. It
logs one line per request (time, method, path, status; never a secret). Its memory
stays bounded however long it runs: it keeps the last 1,000 requests, and at most
10,000 tokens of each kind, forgetting expired access tokens; a request body over
1 MiB is answered 413 without being read. Tests in another language steer it over
HTTP: POST /_stand-in/revoke, /_stand-in/fail, /_stand-in/expires-in,
/_stand-in/deliver (a webhook event to its subscriptions), /_stand-in/rate-limits, and
GET /_stand-in/requests (loopback clients only; see docs/testing.md).

Exit status: 0 done, 1 failed (the error code is on stderr), 2 usage error.
`
