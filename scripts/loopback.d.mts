// Types of scripts/loopback.mjs, for src/cli.ts, which bundles it.
export interface Listening {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string
  /** Drops open connections and stops listening. */
  close(): Promise<void>
}
export function listen(
  handler: (request: Request) => Promise<Response>,
  options?: { port?: number; backlog?: number },
): Promise<Listening>
